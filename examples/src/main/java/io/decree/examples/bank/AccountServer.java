package io.decree.examples.bank;

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
import java.util.List;
import java.util.Map;

/**
 * An account service process: a key-value store of balances, the participant runtime that makes it
 * a 2PC participant, and the Accounts gRPC service on the same port.
 */
public final class AccountServer implements AutoCloseable {
  private final WriteAheadLog storeWal;
  private final KvStore store;
  private final ParticipantRuntime runtime;

  private AccountServer(WriteAheadLog storeWal, KvStore store, ParticipantRuntime runtime) {
    this.storeWal = storeWal;
    this.store = store;
    this.runtime = runtime;
  }

  /**
   * Starts the service. New accounts in {@code openingBalances} are created by a local transaction
   * (no coordinator involved) on first start; existing ones are left alone.
   */
  public static AccountServer start(
      String name,
      String bindHost,
      int port,
      Path dataDir,
      List<String> coordinators,
      Map<String, Long> openingBalances) {
    return start(
        name,
        bindHost,
        port,
        dataDir,
        coordinators,
        openingBalances,
        ParticipantOptions.CHECKPOINT_EVERY_RECORDS_DEFAULT);
  }

  /**
   * Like {@link #start(String, String, int, Path, List, Map)}, with the participant runtime's log
   * checkpointed every {@code checkpointEveryRecords} records.
   */
  public static AccountServer start(
      String name,
      String bindHost,
      int port,
      Path dataDir,
      List<String> coordinators,
      Map<String, Long> openingBalances,
      int checkpointEveryRecords) {
    WriteAheadLog storeWal =
        ChronicleWal.open(WalConfig.builder().directory(dataDir.resolve("store")).build());
    KvStore store = KvStore.open(storeWal, KvConfig.builder().build());
    KvResourceManager resource = new KvResourceManager("kv:" + name, store);
    ParticipantRuntime runtime;
    try {
      runtime =
          new ParticipantRuntime(
                  ParticipantOptions.builder()
                      .name(name)
                      .bindHost(bindHost)
                      .port(port)
                      .dataDirectory(dataDir.resolve("participant"))
                      .coordinatorAddresses(coordinators)
                      .resourceManager(resource)
                      .addBusinessService(new AccountService(store))
                      .checkpointEveryRecords(checkpointEveryRecords)
                      .build())
              .start();
      openAccounts(store, resource, openingBalances);
    } catch (RuntimeException | ResourceException e) {
      store.close();
      storeWal.close();
      throw new IllegalStateException(
          "account service " + name + " failed to start: " + e.getMessage(), e);
    }
    return new AccountServer(storeWal, store, runtime);
  }

  private static void openAccounts(
      KvStore store, ResourceManager resource, Map<String, Long> openingBalances)
      throws ResourceException {
    Map<String, Long> committed = store.readCommittedAll();
    String localTx = "open-accounts-" + System.nanoTime();
    boolean any = false;
    for (var e : new java.util.TreeMap<>(openingBalances).entrySet()) {
      if (!committed.containsKey(e.getKey())) {
        store.put(localTx, e.getKey(), e.getValue());
        any = true;
      }
    }
    if (any) {
      ResourceManager.PrepareResult prepared = resource.prepare(localTx);
      resource.commit(localTx, prepared.branchData());
    }
  }

  public int port() {
    return runtime.port();
  }

  public String address() {
    return runtime.address();
  }

  public ParticipantRuntime runtime() {
    return runtime;
  }

  public KvStore store() {
    return store;
  }

  @Override
  public void close() {
    runtime.close();
    store.close();
    storeWal.close();
  }
}
