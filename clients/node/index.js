'use strict';
// A small client of Conveyor's Durability service. The protos are read from the repository's api module
// (or CONVEYOR_PROTO_DIR), so the wire contract has one source. Every call returns a promise; a failure is
// a DurabilityError carrying the gRPC code and the ErrorInfo reason the server sent (CLAIM_LOST,
// CURSOR_FENCED, INVALID_ARGUMENT, LEDGER_UNAVAILABLE, ...).
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_DIR = process.env.CONVEYOR_PROTO_DIR || path.join(__dirname, '..', '..', 'api', 'src', 'main', 'proto');
const definition = protoLoader.loadSync('conveyor/durability/durability.proto', {
  includeDirs: [PROTO_DIR],
  keepCase: false,
  longs: String, // sequences and times are int64: strings, never rounded
  enums: String,
  defaults: true,
  oneofs: true,
});
const Durability = grpc.loadPackageDefinition(definition).conveyor.durability.Durability;

class DurabilityError extends Error {
  constructor(err) {
    super(err.details || err.message);
    this.name = 'DurabilityError';
    this.code = err.code;
    this.reason = reasonOf(err);
  }
}

// google.rpc.Status in grpc-status-details-bin: details (field 3) are Any {type_url = 1, value = 2}; an
// ErrorInfo's reason is its field 1. Decoded by hand: three fields do not need a protobuf runtime.
function reasonOf(err) {
  const bin = err.metadata && err.metadata.get('grpc-status-details-bin')[0];
  if (!bin) return null;
  for (const any of fields(bin).filter((f) => f.no === 3)) {
    const parts = fields(any.bytes);
    const type = parts.find((f) => f.no === 1);
    const value = parts.find((f) => f.no === 2);
    if (type && value && type.bytes.toString('utf8').endsWith('google.rpc.ErrorInfo')) {
      const reason = fields(value.bytes).find((f) => f.no === 1);
      return reason ? reason.bytes.toString('utf8') : null;
    }
  }
  return null;
}

function fields(buf) {
  const out = [];
  let i = 0;
  const varint = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      out.push({ no, value: varint() });
    } else if (wire === 2) {
      const len = varint();
      out.push({ no, bytes: buf.subarray(i, i + len) });
      i += len;
    } else if (wire === 1) {
      i += 8;
    } else if (wire === 5) {
      i += 4;
    } else {
      break;
    }
  }
  return out;
}

const UNARY = ['emitSignal', 'readSignals', 'acquireCursor', 'commitCursor', 'getCursor', 'claimEffect',
  'renewEffect', 'completeEffect', 'releaseEffect', 'listEffects', 'getSummary'];

// address: "host:port"; options.token: the bearer token; options.deadlineMs per call (default 30 s);
// options.tls: true (system roots) or {rootCert: Buffer} for a node behind TLS. Without TLS the token crosses
// the network in the clear: use plaintext only on loopback or a private network.
function connect(address, options = {}) {
  const credentials = options.tls
    ? grpc.credentials.createSsl(options.tls === true ? null : options.tls.rootCert || null)
    : grpc.credentials.createInsecure();
  const raw = new Durability(address, credentials);
  const metadata = () => {
    const m = new grpc.Metadata();
    if (options.token) m.set('authorization', `Bearer ${options.token}`);
    return m;
  };
  const deadline = () => new Date(Date.now() + (options.deadlineMs || 30000));
  const client = { raw, close: () => raw.close() };
  for (const name of UNARY) {
    client[name] = (request) => new Promise((resolve, reject) => {
      raw[name](request, metadata(), { deadline: deadline() }, (err, response) => {
        if (err) reject(new DurabilityError(err));
        else resolve(response);
      });
    });
  }
  // An async iterator of SignalEvent ({signal} or {gap}); call .cancel() on the returned call to stop.
  client.followSignals = (request) => {
    const call = raw.followSignals(request, metadata());
    call.on('error', () => {}); // a cancelled follow ends with CANCELLED; iteration reports other errors
    return call;
  };
  return client;
}

module.exports = { connect, DurabilityError };
