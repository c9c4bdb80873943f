import https from "https";
import axios from "axios";

// ruleid: js.tls-verification-disabled
const agent = new https.Agent({ rejectUnauthorized: false });

// ruleid: js.tls-verification-disabled
process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";

// ok: js.tls-verification-disabled
const safeAgent = new https.Agent({ rejectUnauthorized: true, ca: corpCa });

async function send(order: object): Promise<void> {
  // ruleid: js.plaintext-http-request
  await fetch("http://payments.example.com/charge", { method: "POST", body: JSON.stringify(order) });
  // ruleid: js.plaintext-http-request
  await axios.post("http://crm.example.com/contacts", order);
  // ok: js.plaintext-http-request
  await fetch("http://localhost:3000/health");
  // ok: js.plaintext-http-request
  await fetch("https://payments.example.com/charge");
}
