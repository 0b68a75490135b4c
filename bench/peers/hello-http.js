// The peer for the HTTP figures: a bare Node `http` server answering a small JSON body.
// Started as its own child process by bench/run.ts; listens on PORT (127.0.0.1).
import { createServer } from 'node:http';

const body = JSON.stringify({ hello: 'world' });
createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1');
