"""Domain errors. Services raise these (or Django's ValidationError); the API layer maps each to
its HTTP status, so the core never depends on HTTP. Each declares a stable `code` that clients
branch on: renaming one is a breaking change of the API (they are listed in the schema)."""


class ApplicationError(Exception):
    code = "invalid_request"
    status_code = 400
    default_message = "The request could not be completed."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class InvalidCredentials(ApplicationError):
    code = "invalid_credentials"
    status_code = 401
    default_message = "Invalid credentials."


class TokenInvalid(ApplicationError):
    code = "token_invalid"
    status_code = 401
    default_message = "Token is invalid or expired."


class NotFound(ApplicationError):
    code = "not_found"
    status_code = 404
    default_message = "Not found."


class PermissionDenied(ApplicationError):
    code = "permission_denied"
    status_code = 403
    default_message = "You do not have permission to perform this action."


class Conflict(ApplicationError):
    code = "conflict"
    status_code = 409
    default_message = "The request conflicts with the current state of the resource."


class BookingConflict(Conflict):
    code = "booking_conflict"
    default_message = "These dates are not available: another booking overlaps them."


class NightsTaken(Conflict):
    code = "nights_taken"
    default_message = "Some of these nights are already booked or blocked."


class PropertyUnavailable(Conflict):
    code = "property_unavailable"
    default_message = "This property is not open for booking."


class BookingNotCancellable(Conflict):
    code = "booking_not_cancellable"
    default_message = "This booking can no longer be cancelled."


class PropertyHasUpcomingBookings(Conflict):
    code = "property_has_upcoming_bookings"
    default_message = "This property has upcoming bookings; cancel them before deleting it."


class IdempotencyKeyReused(ApplicationError):
    code = "idempotency_key_reused"
    status_code = 422
    default_message = (
        "This Idempotency-Key was already used for a different booking request; "
        "use a new key for a new request."
    )


class LoginThrottled(ApplicationError):
    """Too many failed password checks for a login name or a client address; `wait` is the
    number of seconds until the next attempt may succeed (None if unknown)."""

    status_code = 429
    code = "throttled"  # the same as every other 429: one limit or another, wait and retry
    default_message = "Too many failed logins; try again later."

    def __init__(self, message: str | None = None, *, wait: float | None = None):
        super().__init__(message)
        self.wait = wait


class PhotoRejected(ApplicationError):
    """An upload that is not a photo we accept; nothing is stored."""

    code = "photo_rejected"
    default_message = "The image was refused."


class PhotoUnsupportedFormat(PhotoRejected):
    code = "photo_unsupported_format"
    default_message = "image: not a JPEG, PNG or WebP image (recognised from its bytes)."


class PhotoCorrupt(PhotoRejected):
    code = "photo_corrupt"
    default_message = "image: the file is truncated or corrupt."


class PhotoAnimated(PhotoRejected):
    code = "photo_animated"
    default_message = "image: animated images are not accepted; upload a still image."


class PhotoTooLarge(PhotoRejected):
    code = "photo_too_large"
    status_code = 413
    default_message = "image: the file is over the size limit."


class PhotoTooManyPixels(PhotoRejected):
    code = "photo_too_many_pixels"
    status_code = 413
    default_message = "image: the picture has more pixels than allowed."


class PhotoLimitReached(PhotoRejected):
    code = "photo_limit_reached"
    default_message = "This property already has the most photos allowed; delete one first."
