import pytest
from django.urls import reverse

from accounts.models import CreatorProfile
from accounts.services import CreatorProfileError, creator_profile_create
from tests.factories.accounts import PASSWORD

pytestmark = pytest.mark.django_db

BECOME = reverse("accounts:creator_create")


def _form(**overrides):
    return {
        "display_name": "张老师",
        "bio": "教了十年书。",
        "payout_alipay_account": "13800138000",
        "payout_alipay_name": "张伟",
        **overrides,
    }


def test_half_filled_payout_details_are_refused_and_the_input_is_kept(client, learner):
    client.force_login(learner)

    response = client.post(BECOME, _form(payout_alipay_name=""))

    assert response.status_code == 200
    assert "Enter both the Alipay account" in response.text
    assert 'value="张老师"' in response.text
    assert not CreatorProfile.objects.filter(user=learner).exists()


def test_an_alipay_account_that_is_neither_mobile_nor_email_is_refused(client, learner):
    client.force_login(learner)

    response = client.post(BECOME, _form(payout_alipay_account="12345"))

    assert response.context["form"].errors["payout_alipay_account"] == [
        "Enter an 11-digit mobile number or an e-mail address."
    ]
    assert not CreatorProfile.objects.filter(user=learner).exists()


def test_becoming_a_creator_creates_the_profile_and_opens_the_studio(client, learner):
    client.force_login(learner)

    response = client.post(BECOME, _form())

    profile = CreatorProfile.objects.get(user=learner)
    assert response["Location"] == reverse("courses:studio")
    assert (profile.display_name, profile.payout_alipay_account, profile.payout_alipay_name) == (
        "张老师",
        "13800138000",
        "张伟",
    )


def test_a_creator_can_leave_payout_details_for_later(client, learner):
    client.force_login(learner)

    client.post(BECOME, _form(payout_alipay_account="", payout_alipay_name=""))

    assert CreatorProfile.objects.get(user=learner).payout_alipay_account == ""


def test_creator_profile_create_refuses_a_second_profile(creator):
    with pytest.raises(CreatorProfileError) as raised:
        creator_profile_create(user=creator, display_name="Again")

    assert raised.value.code == "already_creator"
    assert CreatorProfile.objects.filter(user=creator).count() == 1


def test_a_creator_opening_become_a_creator_is_sent_to_the_edit_page(client, creator):
    client.force_login(creator)

    response = client.get(BECOME)

    assert response["Location"] == reverse("accounts:creator_edit")


def test_a_creator_edits_their_profile(client, creator):
    client.force_login(creator)

    response = client.post(
        reverse("accounts:creator_edit"),
        _form(
            display_name="New Name",
            payout_alipay_account="pay@example.com",
            payout_alipay_name="李四",
            password=PASSWORD,
        ),
    )

    creator.creator_profile.refresh_from_db()
    assert response["Location"] == reverse("accounts:profile")
    assert creator.creator_profile.display_name == "New Name"
    assert creator.creator_profile.payout_alipay_account == "pay@example.com"


def test_a_refused_edit_leaves_the_profile_unchanged(client, creator):
    client.force_login(creator)
    before = creator.creator_profile.display_name

    response = client.post(reverse("accounts:creator_edit"), _form(display_name="New Name", payout_alipay_name=""))

    creator.creator_profile.refresh_from_db()
    assert response.status_code == 200
    assert creator.creator_profile.display_name == before


def test_the_edit_page_is_prefilled_with_the_profile(client, creator):
    client.force_login(creator)

    response = client.get(reverse("accounts:creator_edit"))

    assert f'value="{creator.creator_profile.display_name}"' in response.text


def test_a_user_without_a_profile_opening_edit_is_sent_to_become_a_creator(client, learner):
    client.force_login(learner)

    response = client.get(reverse("accounts:creator_edit"))

    assert response["Location"] == BECOME


def test_the_profile_page_offers_becoming_a_creator_to_a_learner(client, learner):
    client.force_login(learner)

    response = client.get(reverse("accounts:profile"))

    assert learner.email in response.text
    assert "Become a creator" in response.text


def test_the_profile_page_shows_a_creators_profile(client, creator):
    client.force_login(creator)

    response = client.get(reverse("accounts:profile"))

    assert creator.creator_profile.display_name in response.text
    # Masked: the first and last two characters of the account, never all of it.
    account = creator.creator_profile.payout_alipay_account
    assert account not in response.text
    assert f"{account[:2]}{'*' * (len(account) - 4)}{account[-2:]}" in response.text
    assert "Become a creator" not in response.text
