const crypto = require("crypto");

function store(password) {
  // ruleid: js.weak-password-hash
  return crypto.createHash("md5").update(password).digest("hex");
}

// ok: js.weak-password-hash
const etag = crypto.createHash("sha256").update(body).digest("hex");

// ruleid: js.insecure-random-token
const resetToken = Math.random().toString(36).slice(2);

// ruleid: js.insecure-random-token
user.sessionId = Math.floor(Math.random() * 1e16);

// ok: js.insecure-random-token
const csrfToken = crypto.randomBytes(32).toString("hex");

// ok: js.insecure-random-token
const jitter = Math.random() * 100;
