package dev.conveyor.submitqueue.speculate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.ledger.testing.PostgresDatabase;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.pipeline.Signals;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What one planning pass costs the ledger as the queue deepens, counted by PostgreSQL itself (the
 * transaction's own table scans and index probes, {@code pg_stat_xact_user_tables}): a queue of batches that each
 * follow every earlier one — the densest dependency graph — is planned in scans that grow with the size of the
 * graph (batches plus dependencies), not with batches times dependencies. A pass reading batch by batch, each
 * batch reading every batch it follows afresh, took 102,150 scans for 80 batches (3,160 dependencies) here,
 * and 1.9 million scans of sq_batches for 39 batches in a measured run of the issue; this pass takes about 7,200.
 */
class PostgresPlanningCostTest extends LedgerTestBase {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();

  @Override
  protected String ledgerUrl() {
    return pg.url();
  }

  private long scansOfAPass(String queueName, int batches) {
    SubmitQueueConfig queue = SubmitQueueConfig.of(QueueConfig.of(queueName, "file:///nowhere", "main",
        Strategy.REBASE), "true", 4);
    ledger.transact(tx -> {
      List<String> earlier = new ArrayList<>();
      for (long n = 1; n <= batches; n++) {
        RequestRecord r = Requests.create(tx, queueName, n, List.of("change://origin/c" + n + "@" + "a".repeat(40)),
            Strategy.REBASE);
        Requests.transition(tx, r, State.VALIDATED, null);
        String batch = queueName + "/b" + n;
        Requests.batched(tx, Requests.get(tx, r.requestId()), batch);
        Batches.createIfAbsent(tx, batch, queueName, n, List.of(r.requestId()), earlier);
        earlier.add(batch);
      }
      return null;
    });
    try (Streams streams = new Streams(ledger, SubmitQueueHarness.registry())) {
      SpeculationPlanner planner = new SpeculationPlanner(ledger.jobs(), new Signals(streams.publisher()));
      return ledger.transact(tx -> {
        planner.pass(tx, queue);
        return tx.queryLong("SELECT COALESCE(SUM(COALESCE(idx_scan, 0) + COALESCE(seq_scan, 0)), 0)"
            + " FROM pg_stat_xact_user_tables WHERE relname IN ('sq_batches', 'sq_batch_deps', 'sq_batch_members')");
      });
    }
  }

  @Test
  void aPlanningPassCostsScansLinearInTheQueuesDepth() {
    for (int batches : new int[] {10, 80}) {
      long graph = batches + (long) batches * (batches - 1) / 2;
      long scans = scansOfAPass("q" + batches, batches);
      assertThat(scans).as("scans of one pass over %d batches", batches).isLessThanOrEqualTo(4 * graph + 200);
    }
  }
}
