import ssl
import urllib.request

import httpx
import requests

# ruleid: python.tls-verify-disabled
requests.get("https://api.example.com/users", verify=False)

# ruleid: python.tls-verify-disabled
httpx.post("https://api.example.com/users", json={}, verify=False)

# ruleid: python.tls-verify-disabled
ctx = ssl._create_unverified_context()

# ruleid: python.tls-verify-disabled
ctx.verify_mode = ssl.CERT_NONE

# ok: python.tls-verify-disabled
requests.get("https://api.example.com/users", verify="/etc/ssl/corp-ca.pem")

# ok: python.tls-verify-disabled
requests.get("https://api.example.com/users")

# ruleid: python.plaintext-http-request
requests.post("http://payments.example.com/charge", json={"amount": 10})

# ruleid: python.plaintext-http-request
urllib.request.urlopen("http://example.org/data.json")

# ok: python.plaintext-http-request
requests.get("http://localhost:8080/health")

# ok: python.plaintext-http-request
requests.get("https://payments.example.com/charge")
