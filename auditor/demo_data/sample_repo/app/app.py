"""A small order service with known problems (auditor's demo sample; never run)."""

from __future__ import annotations

import hashlib
import logging
import pickle
import random
import sqlite3
import subprocess
import urllib.request

import yaml

log = logging.getLogger("shop")

DEBUG = True
SMTP_PASSWORD = "Tr0ub4dor-and-3"


def hash_password(password: str) -> str:
    return hashlib.md5(password.encode()).hexdigest()


def new_reset_token() -> str:
    reset_token = "".join(random.choice("abcdef0123456789") for _ in range(32))
    return reset_token


def find_orders(db: sqlite3.Connection, customer: str) -> list[tuple[object, ...]]:
    cur = db.cursor()
    cur.execute(f"SELECT * FROM orders WHERE customer = '{customer}'")
    return cur.fetchall()


def load_cart(blob: bytes) -> object:
    return pickle.loads(blob)


def load_settings(text: str) -> object:
    return yaml.load(text, Loader=yaml.Loader)


def export(path: str) -> None:
    subprocess.run("tar czf /tmp/export.tgz " + path, shell=True, check=False)


def notify(email: str) -> None:
    log.info("sending receipt to %s", email)
    urllib.request.urlopen("http://mailer.example.com/send")
