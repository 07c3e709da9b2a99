package io.decree.wal;

class InMemoryWalContractTest extends WriteAheadLogContract {
  @Override
  protected WriteAheadLog openFresh() {
    return new InMemoryWal(InMemoryWal.SyncMode.AUTO, MAX_RECORD_BYTES);
  }

  @Override
  protected WriteAheadLog reopen(WriteAheadLog previous) {
    return ((InMemoryWal) previous).reopen();
  }
}
