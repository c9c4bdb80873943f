import hashlib
import random
import secrets
import string

# ruleid: python.weak-password-hash
digest = hashlib.md5(password.encode()).hexdigest()

# ruleid: python.weak-password-hash
stored = hashlib.sha256(salt + user_password).hexdigest()

def store(pwd):
    h = hashlib.sha1()
    # ruleid: python.weak-password-hash
    h.update(pwd.encode())
    return h.hexdigest()

# ok: python.weak-password-hash
checksum = hashlib.sha256(file_bytes).hexdigest()

# ruleid: python.insecure-random-token
reset_token = "".join(random.choice(string.ascii_letters) for _ in range(32))

# ruleid: python.insecure-random-token
user.session_id = random.getrandbits(128)

# ok: python.insecure-random-token
reset_token = secrets.token_urlsafe(32)

# ok: python.insecure-random-token
delay = random.uniform(0.1, 0.5)
