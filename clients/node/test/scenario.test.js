'use strict';
// The durability contract's scenario, played against a running Conveyor node (CONVEYOR_ADDRESS and
// CONVEYOR_TOKEN): a step emits three signals and claims an effect, is killed (SIGKILL) before completing; a
// new process resumes from its durable cursor, finds the effect still held, waits for the lease to lapse,
// completes it once, and replays the stream from zero with the same sequences.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const path = require('node:path');
const readline = require('node:readline');
const { connect, DurabilityError } = require('..');

const STEP = path.join(__dirname, '..', 'scenario', 'step.js');

function run(phase, stream, { killAfterFirstLine }) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STEP, phase, stream], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    let report;
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      report = JSON.parse(line);
      if (killAfterFirstLine) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (!report) reject(new Error(`${phase} printed nothing (exit ${code}, ${signal}): ${stderr}`));
      else resolve({ report, code, signal });
    });
  });
}

test('a killed step resumes from its cursor and completes its effect once', async () => {
  assert.ok(process.env.CONVEYOR_ADDRESS, 'CONVEYOR_ADDRESS names the node');
  const stream = `node-run-${Date.now()}`;
  const first = await run('first', stream, { killAfterFirstLine: true });
  assert.equal(first.signal, 'SIGKILL');
  assert.deepEqual(first.report.emitted.map((e) => e.sequence), [1, 2, 3]);
  assert.equal(first.report.claim, 'acquired');

  const { report, code } = await run('resume', stream, { killAfterFirstLine: false });
  assert.equal(code, 0);
  assert.equal(report.positionBefore, 3, 'the cursor the killed step committed');
  assert.match(report.holderBefore, /^first-/);
  assert.equal(report.resumedAt, 3);
  assert.ok(report.epoch > first.report.epoch, 'the new process holds a newer epoch');
  assert.equal(report.unseen, 0);
  assert.deepEqual(report.reemitted, [1, 2, 3].map((sequence) => ({ sequence, duplicate: true })));
  assert.equal(report.outcomes[0].outcome, 'held', 'the dead step still held the effect');
  assert.match(report.outcomes[0].holder, /^first-/);
  const acquired = report.outcomes.find((o) => o.outcome === 'acquired');
  assert.equal(acquired.transitions, 1, 'taken over once, after the lease lapsed');
  assert.deepEqual(report.outcomes.at(-1), { outcome: 'completed', result: 'charged once' });
  assert.equal(report.outcomes.filter((o) => o.outcome === 'acquired').length, 1, 'completed once');
  assert.deepEqual(report.replay, [1, 2, 3].map((n) => ({ sequence: n, intentId: `${stream}:signal-${n}` })));
  assert.deepEqual(report.summary, { held: 0, completed: 1 });
});

test('errors carry the server reason', async () => {
  const client = connect(process.env.CONVEYOR_ADDRESS, { token: process.env.CONVEYOR_TOKEN });
  try {
    await assert.rejects(client.emitSignal({ stream: 'bad stream', intentId: 'x' }), (e) => {
      assert.ok(e instanceof DurabilityError);
      assert.equal(e.reason, 'INVALID_ARGUMENT');
      assert.match(e.message, /stream must be/);
      return true;
    });
    const claim = await client.claimEffect({ subject: 'node-errors', key: `k-${Date.now()}`, holder: 'a',
      ttlMs: 60000 });
    await assert.rejects(client.completeEffect({ subject: 'node-errors', key: 'never-claimed', token: 't' }),
      (e) => e.reason === 'CLAIM_LOST');
    assert.ok(claim.acquired);
    const anonymous = connect(process.env.CONVEYOR_ADDRESS, {});
    await assert.rejects(anonymous.getSummary({ subject: 'node-errors' }), (e) => e.reason === 'MISSING_TOKEN');
    anonymous.close();
  } finally {
    client.close();
  }
});
