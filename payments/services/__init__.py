"""Payments business logic: plain keyword-only functions named <entity>_<action>.

Views, the API, notify views, admin actions and Celery tasks all call these; nothing else writes money.
"""
