const child_process = require("child_process");
const { exec } = require("child_process");

async function findUser(db, name, id) {
  // ruleid: js.sql-built-from-strings
  await db.query(`SELECT * FROM users WHERE name = '${name}'`);
  // ruleid: js.sql-built-from-strings
  await db.query("SELECT * FROM users WHERE id = " + id);
  // ok: js.sql-built-from-strings
  await db.query("SELECT * FROM users WHERE id = $1", [id]);
}

function archive(file) {
  // ruleid: js.child-process-with-input
  child_process.exec("tar czf backup.tgz " + file);
  // ruleid: js.child-process-with-input
  exec(`convert ${file} out.png`, () => {});
  // ok: js.child-process-with-input
  child_process.execFile("tar", ["czf", "backup.tgz", file]);
  // ok: js.child-process-with-input
  exec("ls -l", () => {});
}
