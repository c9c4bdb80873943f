const express = require("express");
const errorhandler = require("errorhandler");
const jwt = require("jsonwebtoken");

const app = express();

// ruleid: js.debug-mode-enabled
app.use(errorhandler());

if (process.env.NODE_ENV === "development") {
  // ok: js.debug-mode-enabled
  app.use(errorhandler());
}

app.post("/login", (req, res) => {
  // ruleid: js.cookie-without-secure-flags
  res.cookie("session", req.sessionId);
  // ruleid: js.cookie-without-secure-flags
  res.cookie("session", req.sessionId, { secure: true });
  // ok: js.cookie-without-secure-flags
  res.cookie("session", req.sessionId, { secure: true, httpOnly: true, sameSite: "lax" });
  // ruleid: js.personal-data-in-logs
  console.log("login", req.body.email);
  // ruleid: js.personal-data-in-logs
  logger.info(`password reset for ${user.phoneNumber}`);
  // ok: js.personal-data-in-logs
  console.log("login", req.user.id);
});

function authenticate(token, key) {
  // ruleid: js.jwt-verification-disabled
  const user = jwt.decode(token);
  // ruleid: js.jwt-verification-disabled
  jwt.verify(token, key, { algorithms: ["HS256", "none"] });
  // ok: js.jwt-verification-disabled
  return jwt.verify(token, key, { algorithms: ["HS256"] });
}
