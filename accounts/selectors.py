"""Account reads for pages, the API and forms, written once."""

from accounts.models import CreatorProfile, User


def creator_profile_get(*, user: User) -> CreatorProfile | None:
    if not user.is_authenticated:
        return None
    return CreatorProfile.objects.filter(user=user).first()


def creator_display_name(*, user: User) -> str:
    """How a course's creator is shown: their display name, or the username of a user with no profile.

    Course selectors load the profile with select_related, so this costs no query there.
    """
    return user.creator_profile.display_name if user.is_creator else user.username
