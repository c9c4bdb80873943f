import logging

log = logging.getLogger(__name__)


def register(user, email, password):
    # ruleid: python.personal-data-in-logs
    log.info("registered %s", email)
    # ruleid: python.personal-data-in-logs
    logging.warning(f"bad login for {user.email}")
    # ruleid: python.personal-data-in-logs
    log.debug("password was %s", password)
    # ruleid: python.personal-data-in-logs
    logger.info("phone", user.phone_number)
    # ok: python.personal-data-in-logs
    log.info("registered user %s", user.id)
    # ok: python.personal-data-in-logs
    log.info("sending welcome mail")
