package io.synod;

/** Where a node keeps its log. */
public enum StorageEngine {
  /** RocksDB in the node's data directory: durable, the default for production. */
  ROCKSDB("rocksdb"),
  /** SQLite in the node's data directory: durable. */
  SQLITE("sqlite"),
  /** Memory: nothing survives the node (tests, examples). */
  MEMORY("memory");

  private final String nativeName;

  StorageEngine(String nativeName) {
    this.nativeName = nativeName;
  }

  /** The engine's name in the C ABI (synod_config_set_storage). */
  String nativeName() {
    return nativeName;
  }
}
