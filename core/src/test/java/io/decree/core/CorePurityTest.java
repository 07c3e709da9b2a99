package io.decree.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/**
 * The protocol core is a pure state machine: it does no I/O, reads no clock, starts no thread and
 * logs nothing. Time and randomness come in as values. These rules fail the build otherwise.
 */
class CorePurityTest {
  private static final JavaClasses CORE =
      new ClassFileImporter()
          .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
          .importPackages("io.decree.core");

  @Test
  void coreUsesNoNetworkStorageOrLoggingLibraries() {
    noClasses()
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage(
            "io.grpc..",
            "com.google.protobuf..",
            "net.openhft..",
            "org.apache.ratis..",
            "org.slf4j..",
            "java.net..",
            "java.nio..",
            "java.io..",
            "java.util.concurrent..",
            "java.time..",
            "io.decree.wal..",
            "io.decree.proto..")
        .because("the core must stay a pure state machine; drivers do the I/O")
        .check(CORE);
  }

  @Test
  void coreReadsNoClockAndStartsNoThread() {
    noClasses()
        .should()
        .callMethod(System.class, "currentTimeMillis")
        .orShould()
        .callMethod(System.class, "nanoTime")
        .orShould()
        .dependOnClassesThat()
        .belongToAnyOf(Thread.class, java.util.Random.class, Runtime.class)
        .because("time and randomness are inputs to the core, never read inside it")
        .check(CORE);
  }
}
