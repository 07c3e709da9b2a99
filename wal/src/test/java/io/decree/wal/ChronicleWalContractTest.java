package io.decree.wal;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class ChronicleWalContractTest extends WriteAheadLogContract {
  @TempDir Path dir;

  private WalConfig config() {
    return WalConfig.builder()
        .directory(dir.resolve("wal"))
        .maxRecordBytes(MAX_RECORD_BYTES)
        .queueCapacity(256)
        .maxBatch(64)
        .build();
  }

  @Override
  protected WriteAheadLog openFresh() {
    return ChronicleWal.open(config());
  }

  @Override
  protected WriteAheadLog reopen(WriteAheadLog previous) {
    return ChronicleWal.open(config());
  }
}
