// The Node anchor of //bench:transports: the seed's echo server (docs' tls.createServer
// example), without client certificates and without setEncoding('utf8') (a binary-safe echo,
// which is also Node's faster path). Prints what the seed's prints per connection.
//   node node_echo.js KEY.pem CHAIN.pem   (prints "listening on 127.0.0.1:PORT"; exits when
//                                          its stdin closes)
'use strict';
const tls = require('tls');
const fs = require('fs');

const options = {key: fs.readFileSync(process.argv[2]), cert: fs.readFileSync(process.argv[3])};
const server = tls.createServer(options, (cleartextStream) => {
  console.log('server connected', cleartextStream.authorized ? 'authorized' : 'unauthorized');
  cleartextStream.setNoDelay(true);
  cleartextStream.on('error', () => {});  // a client that left: nothing to report here
  cleartextStream.write('welcome!\n');
  cleartextStream.pipe(cleartextStream);
});
server.listen(0, '127.0.0.1', () => {
  console.log('listening on 127.0.0.1:' + server.address().port);
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
