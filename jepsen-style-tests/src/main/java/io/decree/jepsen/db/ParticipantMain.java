package io.decree.jepsen.db;

import io.decree.core.Backoff;
import io.decree.core.participant.ParticipantConfig;
import io.decree.examples.bank.AccountService;
import io.decree.participant.ParticipantOptions;
import io.decree.participant.ParticipantRuntime;
import io.decree.participant.kv.KvConfig;
import io.decree.participant.kv.KvResourceManager;
import io.decree.participant.kv.KvStore;
import io.decree.participant.spi.ResourceException;
import io.decree.participant.spi.ResourceManager;
import io.decree.wal.ChronicleWal;
import io.decree.wal.WalConfig;
import io.decree.wal.WriteAheadLog;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;

/**
 * A participant node of the suite: the example account service (the same store and Accounts service
 * as {@code decree account-service}), plus what the harness needs and the cli does not offer: an
 * advertised address (the proxy in front of it, so the coordinator's and peers' calls cross the
 * faulty network), short timings so a run settles within its recovery window, and finished branches
 * remembered for the whole run so the checkers can read every outcome.
 *
 * <p>{@code --name N --data-dir D --port P --advertise HOST:PORT --coordinators A,B,C [--account
 * K=V ...]}
 */
public final class ParticipantMain {
  private ParticipantMain() {}

  /** Remember finished branches this long: longer than any run, so none is forgotten. */
  static final long RETENTION_MILLIS = 6 * 3600_000L;

  public static void main(String[] argv) throws Exception {
    Map<String, String> flags = new TreeMap<>();
    Map<String, Long> accounts = new TreeMap<>();
    for (int i = 0; i + 1 < argv.length; i += 2) {
      if (argv[i].equals("--account")) {
        String[] kv = argv[i + 1].split("=", 2);
        accounts.put(kv[0], Long.parseLong(kv[1]));
      } else {
        flags.put(argv[i], argv[i + 1]);
      }
    }
    String name = require(flags, "--name");
    Path dataDir = Path.of(require(flags, "--data-dir"));
    List<String> coordinators = Arrays.asList(require(flags, "--coordinators").split(","));
    WriteAheadLog storeWal =
        ChronicleWal.open(WalConfig.builder().directory(dataDir.resolve("store")).build());
    KvStore store = KvStore.open(storeWal, KvConfig.builder().build());
    KvResourceManager resource = new KvResourceManager("kv:" + name, store);
    ParticipantConfig config =
        ParticipantConfig.defaults()
            .withTimings(10_000, 1_000, new Backoff(200, 2_000), RETENTION_MILLIS);
    ParticipantRuntime runtime =
        new ParticipantRuntime(
                ParticipantOptions.builder()
                    .name(name)
                    .bindHost("127.0.0.1")
                    .port(Integer.parseInt(require(flags, "--port")))
                    .advertisedAddress(require(flags, "--advertise"))
                    .dataDirectory(dataDir.resolve("participant"))
                    .coordinatorAddresses(coordinators)
                    .participantConfig(config)
                    .rpcDeadlineMillis(3_000)
                    .resourceManager(resource)
                    .addBusinessService(new AccountService(store))
                    // jepsen --checkpoint-every sets it, to put checkpoints between the faults
                    .checkpointEveryRecords(
                        Integer.getInteger(
                            "decree.participant.checkpointEvery",
                            ParticipantOptions.CHECKPOINT_EVERY_RECORDS_DEFAULT))
                    .build())
            .start();
    openAccounts(store, resource, accounts);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  runtime.close();
                  store.close();
                  storeWal.close();
                  stopped.countDown();
                }));
    System.out.println(
        "participant "
            + name
            + " listening on 127.0.0.1:"
            + runtime.port()
            + " as "
            + runtime.address());
    System.out.flush();
    stopped.await();
  }

  /** Creates missing accounts by a local transaction (as the account service does). */
  private static void openAccounts(KvStore store, ResourceManager resource, Map<String, Long> open)
      throws ResourceException {
    Map<String, Long> committed = store.readCommittedAll();
    String localTx = "open-accounts-" + System.nanoTime();
    List<String> created = new ArrayList<>();
    for (var e : open.entrySet()) {
      if (!committed.containsKey(e.getKey())) {
        store.put(localTx, e.getKey(), e.getValue());
        created.add(e.getKey());
      }
    }
    if (!created.isEmpty()) {
      ResourceManager.PrepareResult prepared = resource.prepare(localTx);
      resource.commit(localTx, prepared.branchData());
    }
  }

  private static String require(Map<String, String> flags, String flag) {
    String v = flags.get(flag);
    if (v == null) {
      throw new IllegalArgumentException("missing " + flag);
    }
    return v;
  }
}
