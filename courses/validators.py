"""Validators shared by the course forms, the admin and the API."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from PIL import Image


def cover_image_validate(file) -> None:
    """A cover is at most COURSE_COVER_MAX_BYTES and COURSE_COVER_MAX_PIXELS (width times height).

    The pixel limit is read from the image's header, before anything decodes its pixels: a small
    file can describe an enormous picture.
    """
    if file.size > settings.COURSE_COVER_MAX_BYTES:
        raise ValidationError(
            f"The cover can be at most {filesizeformat(settings.COURSE_COVER_MAX_BYTES)}.", code="cover_too_large"
        )
    image = getattr(file, "image", None)
    if image is None:
        file.seek(0)
        with Image.open(file) as opened:
            width, height = opened.size
        file.seek(0)
    else:
        width, height = image.size
    if width * height > settings.COURSE_COVER_MAX_PIXELS:
        raise ValidationError(
            f"The cover can have at most {settings.COURSE_COVER_MAX_PIXELS:,} pixels; "
            f"this one has {width} by {height}.",
            code="cover_too_many_pixels",
        )
