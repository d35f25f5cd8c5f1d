// The Node anchor of //bench:transports: the seed's echo server (docs' tls.createServer
// example), without client certificates and without setEncoding('utf8') (a binary-safe echo,
// which is also Node's faster path). Prints what the seed's prints per connection.
//   node node_echo.js KEY.pem CHAIN.pem [WORKERS]
// Prints "listening on 127.0.0.1:PORT" (with WORKERS > 1: a `cluster` of that many worker
// processes, each printing "worker I (pid N): listening on 127.0.0.1:PORT"; the primary
// accepts and hands connections out, Node's default on Linux). Exits when its stdin closes.
'use strict';
const cluster = require('cluster');
const tls = require('tls');
const fs = require('fs');

const workers = Number(process.argv[4] || 1);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; ++i) cluster.fork();
} else {
  const options = {key: fs.readFileSync(process.argv[2]), cert: fs.readFileSync(process.argv[3])};
  const server = tls.createServer(options, (cleartextStream) => {
    console.log('server connected', cleartextStream.authorized ? 'authorized' : 'unauthorized');
    cleartextStream.setNoDelay(true);
    cleartextStream.on('error', () => {});  // a client that left: nothing to report here
    cleartextStream.write('welcome!\n');
    cleartextStream.pipe(cleartextStream);
  });
  server.listen(0, '127.0.0.1', () => {
    const who = cluster.isWorker ? `worker ${cluster.worker.id - 1} (pid ${process.pid}): ` : '';
    console.log(who + 'listening on 127.0.0.1:' + server.address().port);
  });
}
