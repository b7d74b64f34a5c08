import factory

from accounts.models import CreatorProfile, User

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(PASSWORD)


class CreatorProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreatorProfile

    user = factory.SubFactory(UserFactory)
    display_name = factory.LazyAttribute(lambda p: f"Creator {p.user.username}")
    payout_alipay_account = factory.LazyAttribute(lambda p: f"{p.user.username}@alipay.example")
    payout_alipay_name = "张三"


class CreatorFactory(UserFactory):
    """A user with a creator profile."""

    profile = factory.RelatedFactory(CreatorProfileFactory, factory_related_name="user")
