// Starts the in-memory Firestore emulator (npm @firestore-emulator/server) on
// the port given as the first argument and prints "READY <port>" once it
// accepts connections. Data lives only as long as this process.
const { FirestoreServer } = require("@firestore-emulator/server");

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
