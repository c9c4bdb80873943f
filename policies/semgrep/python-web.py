import jwt
from flask import Flask, make_response

app = Flask(__name__)

# ruleid: python.debug-mode-enabled
DEBUG = True

# ok: python.debug-mode-enabled
DEBUG = False


@app.route("/login")
def login():
    resp = make_response("ok")
    # ruleid: python.cookie-without-secure-flags
    resp.set_cookie("session", "abc")
    # ruleid: python.cookie-without-secure-flags
    resp.set_cookie("session", "abc", secure=True)
    # ok: python.cookie-without-secure-flags
    resp.set_cookie("session", "abc", secure=True, httponly=True, samesite="Lax")
    return resp


def read_claims(token, key):
    # ruleid: python.jwt-verification-disabled
    claims = jwt.decode(token, options={"verify_signature": False})
    # ruleid: python.jwt-verification-disabled
    claims = jwt.decode(token, key, algorithms=["HS256", "none"])
    # ok: python.jwt-verification-disabled
    claims = jwt.decode(token, key, algorithms=["HS256"])
    return claims


if __name__ == "__main__":
    # ruleid: python.debug-mode-enabled
    app.run(host="0.0.0.0", debug=True)
    # ok: python.debug-mode-enabled
    app.run(host="0.0.0.0")
