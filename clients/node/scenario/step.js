'use strict';
// One incarnation of a workflow step, as a separate process. `first`: emits three signals, commits its
// cursor past them, claims its effect and reports CLAIMED, then hangs until it is killed (never
// completing). `resume`: takes the cursor over, finds the effect held, waits for the lease to lapse,
// completes it once and replays the stream from zero. Each prints one JSON line with what it saw.
const { connect } = require('..');

const [phase, stream] = process.argv.slice(2);
const client = connect(process.env.CONVEYOR_ADDRESS, { token: process.env.CONVEYOR_TOKEN });
// the effect's lease outlives the cursor's, so the resumed step finds the effect still held
const CURSOR_LEASE_MS = 1000;
const EFFECT_LEASE_MS = 4000;
const holder = `${phase}-${process.pid}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function emitAll() {
  const sequences = [];
  for (const n of [1, 2, 3]) {
    const r = await client.emitSignal({ stream, partitionKey: 'step', intentId: `${stream}:signal-${n}`,
      payload: Buffer.from(`progress ${n}`) });
    sequences.push({ sequence: Number(r.sequence), duplicate: r.duplicate });
  }
  return sequences;
}

async function acquireCursor() {
  for (;;) {
    const r = await client.acquireCursor({ consumer: 'step-runner', stream, partition: 'step', holder,
      ttlMs: CURSOR_LEASE_MS });
    if (r.acquired) return { cursor: r.cursor, waited: false };
    await sleep(Math.max(50, Number(r.cursor.leaseExpiresAtMs) - Date.now() + 50));
  }
}

async function first() {
  const { cursor } = await acquireCursor();
  const emitted = await emitAll();
  await client.commitCursor({ consumer: 'step-runner', stream, partition: 'step', sequence: 3,
    epoch: cursor.epoch });
  const claim = await client.claimEffect({ subject: stream, key: 'charge-card', holder, ttlMs: EFFECT_LEASE_MS });
  console.log(JSON.stringify({ phase, emitted, claim: claim.outcome, epoch: Number(cursor.epoch) }));
  setInterval(() => {}, 1000); // "working" until killed
}

async function resume() {
  const before = await client.getCursor({ consumer: 'step-runner', stream, partition: 'step' });
  const { cursor } = await acquireCursor();
  const unseen = await client.readSignals({ stream, partition: 'step', afterSequence: cursor.position });
  // a resumed step re-emits what it does not know it emitted: the intents answer their first sequences
  const reemitted = await emitAll();
  const outcomes = [];
  let result;
  for (;;) {
    const claim = await client.claimEffect({ subject: stream, key: 'charge-card', holder, ttlMs: EFFECT_LEASE_MS });
    outcomes.push({ outcome: claim.outcome, holder: claim.held ? claim.held.holder : undefined,
      transitions: claim.acquired ? claim.acquired.transitions : undefined });
    if (claim.held) {
      await sleep(Math.max(50, Number(claim.held.untilMs) - Date.now() + 50));
      continue;
    }
    if (claim.acquired) {
      const done = await client.completeEffect({ subject: stream, key: 'charge-card', token: claim.acquired.token,
        result: Buffer.from('charged once') });
      result = done.result.toString('utf8');
      const again = await client.claimEffect({ subject: stream, key: 'charge-card', holder, ttlMs: EFFECT_LEASE_MS });
      outcomes.push({ outcome: again.outcome, result: again.completed && again.completed.result.toString('utf8') });
    }
    break;
  }
  const replay = await client.readSignals({ stream, partition: 'step', afterSequence: 0 });
  const summary = await client.getSummary({ subject: stream });
  console.log(JSON.stringify({
    phase,
    positionBefore: Number(before.position),
    holderBefore: before.holder,
    resumedAt: Number(cursor.position),
    epoch: Number(cursor.epoch),
    unseen: unseen.signals.length,
    reemitted,
    outcomes,
    result,
    replay: replay.signals.map((s) => ({ sequence: Number(s.sequence), intentId: s.intentId })),
    summary: { held: Number(summary.held), completed: Number(summary.completed) },
  }));
  client.close();
}

(phase === 'first' ? first() : resume()).catch((e) => {
  console.error(`step ${phase} failed: ${e.reason || ''} ${e.message}`);
  process.exit(1);
});
