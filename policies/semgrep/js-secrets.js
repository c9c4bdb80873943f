// ruleid: js.hardcoded-credential
const dbPassword = "s3cr3t-Pa55w0rd";

// ruleid: js.hardcoded-credential
const config = { apiKey: "sk_live_51HxYzAbCdEf", region: "eu-west-1" };

// ruleid: js.hardcoded-credential
client.secret = "0a1b2c3d4e5f6a7b";

// ok: js.hardcoded-credential
const password = process.env.DB_PASSWORD;

// ok: js.hardcoded-credential
const token = "changeme";

// ok: js.hardcoded-credential
const username = "administrator";
