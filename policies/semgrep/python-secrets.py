import os

# ruleid: python.hardcoded-credential
DB_PASSWORD = "s3cr3t-Pa55w0rd"

# ruleid: python.hardcoded-credential
config.api_key = "sk_live_51HxYzAbCdEf"

# ruleid: python.hardcoded-credential
client = connect(host="db", password="hunter2hunter2")

# ruleid: python.hardcoded-credential
settings = {"client_secret": "0a1b2c3d4e5f6a7b"}

# ok: python.hardcoded-credential
DB_PASSWORD = os.environ["DB_PASSWORD"]

# ok: python.hardcoded-credential
password = "changeme"

# ok: python.hardcoded-credential
username = "administrator"

# ok: python.hardcoded-credential
token = ""
