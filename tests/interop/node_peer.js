// A Node.js `tls` peer for the interop tests. One argument: a JSON configuration.
//   role: "server" | "client"
//   port, host: where the client connects (the server listens on 127.0.0.1, port 0)
//   tls: options for tls.createServer / tls.connect; key, cert, ca, pfx are file paths
//   sni: [{name, key, cert}] server contexts (server.addContext)
//   send: bytes of deterministic payload to send after the handshake (0: none)
//   seed: payload seed
//   echo: server echoes what it receives (instead of sinking it)
//   connections: client, sequential connections reusing the previous TLS session
//   hold: client, never end the connection (it lasts until the process is killed); prints
//     held {received} once it has read as many bytes as it sent (an echo has fully arrived),
//     so a test can kill it with nothing unread (unread bytes make the kernel send a reset)
//   exportKeyingMaterial: {label, length, context (hex, optional)}: the secure event carries
//     keyingMaterial (hex) from socket.exportKeyingMaterial(), and finished / peerFinished
//     (hex, or null) from getFinished() / getPeerFinished()
// Prints one JSON object per line on stdout: listening {port}, secure {...}, end
// {received, sha256, sentSha256}, error {code, message}, close. Exits after its work (the
// client) or when its stdin ends (the server), and in any case after `lifetimeMs`.
'use strict';
const tls = require('tls');
const fs = require('fs');
const crypto = require('crypto');

const config = JSON.parse(process.argv[2]);
const print = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
setTimeout(() => {
  print({event: 'lifetime'});
  process.exit(3);
}, config.lifetimeMs || 60000).unref();

function loadTls(opts) {
  const out = Object.assign({}, opts || {});
  for (const k of ['key', 'cert', 'ca', 'pfx']) {
    if (typeof out[k] === 'string') out[k] = fs.readFileSync(out[k]);
  }
  return out;
}

function payload(n, seed) {
  const buf = Buffer.allocUnsafe(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    buf[i] = x >>> 24;
  }
  return buf;
}

function facts(socket) {
  const cert = socket.getPeerCertificate();
  return {
    event: 'secure',
    protocol: socket.getProtocol(),
    cipher: socket.getCipher().standardName,
    alpnProtocol: socket.alpnProtocol || null,
    servername: socket.servername || null,
    authorized: socket.authorized,
    authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
    sessionReused: socket.isSessionReused(),
    peerCN: cert && cert.subject ? cert.subject.CN : null,
    ...keyingFacts(socket),
  };
}

function keyingFacts(socket) {
  const x = config.exportKeyingMaterial;
  if (!x) return {};
  const hex = (b) => (b ? b.toString('hex') : null);
  const context = x.context === undefined ? undefined : Buffer.from(x.context, 'hex');
  return {
    keyingMaterial: hex(socket.exportKeyingMaterial(x.length, x.label, context)),
    finished: hex(socket.getFinished()),
    peerFinished: hex(socket.getPeerFinished()),
  };
}

// Sends |data| respecting backpressure; calls done() once written.
function sendAll(socket, data, done) {
  const chunk = 64 * 1024;
  let off = 0;
  const pump = () => {
    while (off < data.length) {
      const piece = data.subarray(off, Math.min(off + chunk, data.length));
      off += piece.length;
      if (!socket.write(piece)) { socket.once('drain', pump); return; }
    }
    done();
  };
  pump();
}

// Counts and hashes what |socket| receives; reports on end.
function track(socket, sentSha) {
  const hash = crypto.createHash('sha256');
  let received = 0;
  socket.on('data', (d) => { received += d.length; hash.update(d); });
  socket.on('end', () => {
    print({event: 'end', received, sha256: hash.digest('hex'), sentSha256: sentSha()});
  });
  socket.on('error', (e) => {
    print({event: 'error', code: e.code || null, message: String(e.message)});
  });
  socket.on('close', () => print({event: 'close'}));
}

function outgoing() {
  const data = payload(config.send || 0, config.seed || 1);
  return {data, sha: crypto.createHash('sha256').update(data).digest('hex')};
}

if (config.role === 'server') {
  const server = tls.createServer(loadTls(config.tls), (socket) => {
    print(facts(socket));
    const out = outgoing();
    let sent = false;
    track(socket, () => (sent ? out.sha : null));
    if (config.echo) socket.pipe(socket);
    if (out.data.length) sendAll(socket, out.data, () => { sent = true; });
    else sent = true;
  });
  for (const c of config.sni || []) server.addContext(c.name, loadTls({key: c.key, cert: c.cert}));
  server.on('tlsClientError', (e) => {
    print({event: 'clientError', code: e.code || null, message: String(e.message)});
  });
  server.listen(0, '127.0.0.1', () => print({event: 'listening', port: server.address().port}));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
} else {
  let remaining = config.connections || 1;
  let session;
  const connectOnce = () => {
    const options = Object.assign(loadTls(config.tls),
                                  {host: config.host || '127.0.0.1', port: config.port});
    if (session) options.session = session;
    const socket = tls.connect(options, () => {
      print(facts(socket));
      const out = outgoing();
      let sent = false;
      socket.on('end', () => { if (!sent) print({event: 'endBeforeSent'}); });
      const finish = () => { sent = true; if (!config.hold) socket.end(); };
      if (out.data.length) sendAll(socket, out.data, finish);
      else finish();
      track(socket, () => out.sha);
      if (config.hold) {
        let got = 0, held = false;
        socket.on('data', (d) => {
          got += d.length;
          if (!held && got >= out.data.length) {
            held = true;
            print({event: 'held', received: got});
          }
        });
      }
    });
    socket.on('session', (s) => { session = s; });
    socket.once('error', (e) => {  // before secureConnect (after it, track() reports)
      if (!socket.authorized && socket.listenerCount('data') === 0) {
        print({event: 'error', code: e.code || null, message: String(e.message)});
      }
    });
    socket.on('close', () => {
      if (--remaining > 0) connectOnce();
      else setTimeout(() => process.exit(0), 50);
    });
  };
  connectOnce();
}
