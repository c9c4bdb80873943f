import os
import pickle
import subprocess

import yaml


def find_user(cursor, name, user_id):
    # ruleid: python.sql-built-from-strings
    cursor.execute(f"SELECT * FROM users WHERE name = '{name}'")
    # ruleid: python.sql-built-from-strings
    cursor.execute("SELECT * FROM users WHERE id = %s" % user_id)
    query = "DELETE FROM users WHERE id = " + user_id
    # ruleid: python.sql-built-from-strings
    cursor.execute(query)
    # ok: python.sql-built-from-strings
    cursor.execute("SELECT * FROM users WHERE id = %s", (user_id,))
    # ok: python.sql-built-from-strings
    cursor.execute("SELECT count(*) FROM users")


def run(cmd, filename):
    # ruleid: python.shell-true-with-input
    subprocess.run(cmd, shell=True)
    # ruleid: python.shell-true-with-input
    subprocess.check_output(f"tar xzf {filename}", shell=True)
    # ruleid: python.shell-true-with-input
    os.system("rm -rf " + filename)
    # ok: python.shell-true-with-input
    subprocess.run(["tar", "xzf", filename])
    # ok: python.shell-true-with-input
    subprocess.run("ls -l", shell=True)


def load(blob, text):
    # ruleid: python.unsafe-deserialisation
    obj = pickle.loads(blob)
    # ruleid: python.unsafe-deserialisation
    cfg = yaml.load(text)
    # ruleid: python.unsafe-deserialisation
    cfg = yaml.load(text, Loader=yaml.Loader)
    # ok: python.unsafe-deserialisation
    cfg = yaml.safe_load(text)
    # ok: python.unsafe-deserialisation
    cfg = yaml.load(text, Loader=yaml.SafeLoader)
    return obj, cfg
