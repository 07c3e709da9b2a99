package io.decree.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class ClusterPeersTest {

  @Test
  void parsesTheClusterList() {
    ClusterPeers peers = ClusterPeers.parse(" n1=127.0.0.1:7001, n2=127.0.0.1:7002,n3=host-3:7003");

    assertThat(peers.peers())
        .containsExactly(
            new ClusterPeers.Peer("n1", "127.0.0.1", 7001),
            new ClusterPeers.Peer("n2", "127.0.0.1", 7002),
            new ClusterPeers.Peer("n3", "host-3", 7003));
    assertThat(peers.toString()).isEqualTo("n1=127.0.0.1:7001,n2=127.0.0.1:7002,n3=host-3:7003");
  }

  @Test
  void rejectsBadListsWithMessagesNamingTheEntry() {
    assertThatThrownBy(() -> ClusterPeers.parse("")).hasMessageContaining("cluster list is empty");
    assertThatThrownBy(() -> ClusterPeers.parse("n1=127.0.0.1:7001,,"))
        .hasMessageContaining("bad cluster entry ''");
    assertThatThrownBy(() -> ClusterPeers.parse("n1127.0.0.1:7001"))
        .hasMessageContaining("expected id=host:port");
    assertThatThrownBy(() -> ClusterPeers.parse("n1=127.0.0.1"))
        .hasMessageContaining("not host:port");
    assertThatThrownBy(() -> ClusterPeers.parse("n1=127.0.0.1:x"))
        .hasMessageContaining("not a number");
    assertThatThrownBy(() -> ClusterPeers.parse("n1=127.0.0.1:70000"))
        .hasMessageContaining("bad port 70000");
    assertThatThrownBy(() -> ClusterPeers.parse("n1=a:1,n1=b:2"))
        .hasMessageContaining("member id n1 appears twice");
    assertThatThrownBy(() -> ClusterPeers.parse("n1=a:1,n2=a:1"))
        .hasMessageContaining("address a:1 is given to two members");
    assertThatThrownBy(() -> ClusterPeers.parse("n 1=a:1"))
        .hasMessageContaining("bad member id 'n 1'");
  }

  @Test
  void optionsRequireTheNodeToBeListedAndSaneTimeouts() {
    ClusterPeers peers = ClusterPeers.parse("n1=127.0.0.1:7001,n2=127.0.0.1:7002");
    assertThatThrownBy(
            () -> ClusterOptions.builder().nodeId("n9").peers(peers).dataDir(Path.of("x")).build())
        .hasMessageContaining("node id n9 is not in the cluster list");
    assertThatThrownBy(
            () ->
                ClusterOptions.builder()
                    .nodeId("n1")
                    .peers(peers)
                    .dataDir(Path.of("x"))
                    .electionTimeoutMillis(1000, 500)
                    .build())
        .hasMessageContaining("election timeout");

    ClusterOptions a =
        ClusterOptions.builder().nodeId("n1").peers(peers).dataDir(Path.of("a")).build();
    ClusterOptions b =
        ClusterOptions.builder().nodeId("n2").peers(peers).dataDir(Path.of("b")).build();
    assertThat(a.groupUuid()).isEqualTo(b.groupUuid());
    assertThat(a.toBuilder().groupName("other").build().groupUuid()).isNotEqualTo(a.groupUuid());
  }

  @Test
  void aMemberListensOnItsOwnAddressUnlessToldOtherwise() {
    ClusterOptions.Builder b =
        ClusterOptions.builder()
            .nodeId("n1")
            .peers("n1=127.0.0.1:7001,n2=127.0.0.1:7002")
            .dataDir(Path.of("unused"));
    assertThat(b.build().listen()).isEqualTo(new ClusterPeers.Peer("n1", "127.0.0.1", 7001));
    // Behind a proxy: the others dial 7001, the Raft server binds 7101.
    assertThat(b.raftListen("127.0.0.1:7101").build().listen())
        .isEqualTo(new ClusterPeers.Peer("n1", "127.0.0.1", 7101));
    assertThatThrownBy(() -> b.raftListen("127.0.0.1").build())
        .hasMessageContaining("not host:port");
  }
}
