// Starts the in-memory Firestore emulator (npm @firestore-emulator/server) on
// the port given as the first argument and prints "READY <port>" once it
// accepts connections. Data lives only as long as this process.
const { FirestoreServer, FirestoreStateDocument } = require("@firestore-emulator/server");

// Firestore filters and orders on nested fields ("consents.newsletter.value"); this emulator reads
// only top-level ones (getField throws "Not implemented" for a dotted path). Follow the path through
// map values as Firestore does (segments may be `back-quoted`); a missing field is absent, like a
// document without it.
function fieldPathSegments(path) {
  const out = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < path.length; i += 1) {
    const ch = path[i];
    if (quoted && ch === "\\" && i + 1 < path.length) {
      cur += path[(i += 1)];
    } else if (ch === "`") {
      quoted = !quoted;
    } else if (ch === "." && !quoted) {
      out.push(cur);
      cur = "";
    } else {
      cur += ch;
    }
  }
  out.push(cur);
  return out;
}
const topLevelField = FirestoreStateDocument.prototype.getField;
FirestoreStateDocument.prototype.getField = function getField(path) {
  if (!path.includes(".") && !path.includes("`")) return topLevelField.call(this, path);
  const [first, ...rest] = fieldPathSegments(path);
  let field = this.fields[first];
  for (const name of rest) {
    if (!field || field.type !== "map_value") return undefined;
    field = field.value[name];
  }
  return field;
};

const port = Number(process.argv[2] || 0);
const server = new FirestoreServer();
server
  .start(port)
  .then(() => {
    process.stdout.write(`READY ${port}\n`);
  })
  .catch((err) => {
    process.stderr.write(`emulator failed to start on ${port}: ${err}\n`);
    process.exit(3);
  });
const stop = () => {
  server.stop();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// Exit when the parent closes our stdin, so a crashed test run leaves no orphan.
process.stdin.on("end", stop);
process.stdin.resume();
