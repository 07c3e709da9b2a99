package io.decree.jepsen.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FaultProxyTest {
  private ServerSocket echo;
  private Thread echoThread;
  private FaultProxy proxy;

  @BeforeEach
  void startEcho() throws IOException {
    echo = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
    echoThread =
        new Thread(
            () -> {
              while (!echo.isClosed()) {
                try {
                  Socket s = echo.accept();
                  Thread t =
                      new Thread(
                          () -> {
                            try (s;
                                InputStream in = s.getInputStream();
                                OutputStream out = s.getOutputStream()) {
                              int b;
                              while ((b = in.read()) >= 0) {
                                out.write(b);
                                out.flush();
                              }
                            } catch (IOException ignored) {
                              // connection closed by the test
                            }
                          });
                  t.setDaemon(true);
                  t.start();
                } catch (IOException closed) {
                  return;
                }
              }
            });
    echoThread.setDaemon(true);
    echoThread.start();
    proxy = FaultProxy.start("test", 0, echo.getLocalPort());
  }

  @AfterEach
  void stop() throws IOException {
    proxy.close();
    echo.close();
  }

  private Socket connect() throws IOException {
    Socket s = new Socket(InetAddress.getLoopbackAddress(), proxy.port());
    s.setSoTimeout(700);
    return s;
  }

  private static int roundTrip(Socket s, int b) throws IOException {
    s.getOutputStream().write(b);
    s.getOutputStream().flush();
    return s.getInputStream().read();
  }

  @Test
  void forwardsBothWaysWhenHealthy() throws IOException {
    try (Socket s = connect()) {
      assertThat(roundTrip(s, 7)).isEqualTo(7);
      assertThat(roundTrip(s, 8)).isEqualTo(8);
    }
  }

  @Test
  void aCutHoldsBytesUntilTheLinkHeals() throws IOException {
    try (Socket s = connect()) {
      assertThat(roundTrip(s, 1)).isEqualTo(1);
      proxy.setMode(FaultProxy.Mode.CUT_BOTH);
      assertThatThrownBy(() -> roundTrip(s, 2)).isInstanceOf(SocketTimeoutException.class);
      proxy.heal();
      s.setSoTimeout(5_000);
      assertThat(s.getInputStream().read()).isEqualTo(2); // delivered late, not lost
    }
  }

  @Test
  void cuttingRepliesOnlyStillDeliversRequests() throws IOException {
    try (Socket s = connect()) {
      proxy.setMode(FaultProxy.Mode.CUT_REPLIES);
      assertThatThrownBy(() -> roundTrip(s, 3)).isInstanceOf(SocketTimeoutException.class);
      proxy.heal();
      s.setSoTimeout(5_000);
      assertThat(s.getInputStream().read()).isEqualTo(3); // the echo had run
    }
  }

  @Test
  void droppedRepliesNeverArriveAndTheConnectionIsClosedOnHeal() throws IOException {
    try (Socket s = connect()) {
      assertThat(roundTrip(s, 4)).isEqualTo(4);
      proxy.setMode(FaultProxy.Mode.DROP_REPLIES);
      assertThatThrownBy(() -> roundTrip(s, 5)).isInstanceOf(SocketTimeoutException.class);
      proxy.heal();
      s.setSoTimeout(5_000);
      assertThat(s.getInputStream().read()).isEqualTo(-1); // closed, the 5 is gone for good
    }
    try (Socket fresh = connect()) {
      fresh.setSoTimeout(5_000);
      assertThat(roundTrip(fresh, 6)).isEqualTo(6);
    }
  }

  @Test
  void delayedLinkDeliversAfterTheDelay() throws IOException {
    proxy.setDelayMillis(300);
    try (Socket s = connect()) {
      s.setSoTimeout(5_000);
      long start = System.nanoTime();
      assertThat(roundTrip(s, 9)).isEqualTo(9);
      // Both directions are delayed: at least two delays, whatever the machine's speed.
      assertThat((System.nanoTime() - start) / 1_000_000).isGreaterThanOrEqualTo(600);
    }
  }

  @Test
  void aNewConnectionDuringACutHearsNothing() throws IOException {
    proxy.setMode(FaultProxy.Mode.CUT_BOTH);
    try (Socket s = connect()) {
      assertThatThrownBy(() -> roundTrip(s, 1)).isInstanceOf(SocketTimeoutException.class);
    }
  }

  private static Socket dial(String address) throws IOException {
    Socket s =
        new Socket(
            InetAddress.getLoopbackAddress(),
            Integer.parseInt(address.substring(address.lastIndexOf(':') + 1)));
    s.setSoTimeout(700);
    return s;
  }

  @Test
  void aDispatcherGivesEachSourceProcessItsOwnLink() throws IOException {
    long me = ProcessHandle.current().pid();
    try (Network network = new Network()) {
      String address =
          network.dispatched("x", echo.getLocalPort(), () -> Map.of("me", me, "x", -1L));
      try (Socket s = dial(address)) {
        assertThat(roundTrip(s, 1)).isEqualTo(1);
        network.get("other", "x").setMode(FaultProxy.Mode.CUT_BOTH); // not this connection's link
        assertThat(roundTrip(s, 2)).isEqualTo(2);
        network.get("me", "x").setMode(FaultProxy.Mode.CUT_BOTH);
        assertThatThrownBy(() -> roundTrip(s, 3)).isInstanceOf(SocketTimeoutException.class);
        network.get("me", "x").heal();
        s.setSoTimeout(5_000);
        assertThat(s.getInputStream().read()).isEqualTo(3);
      }
    }
  }

  @Test
  void aConnectionFromNoKnownPeerGoesThroughTheFallbackLink() throws IOException {
    try (Network network = new Network()) {
      // pid 1 does not own this test's socket.
      String address = network.dispatched("x", echo.getLocalPort(), () -> Map.of("y", 1L));
      try (Socket s = dial(address)) {
        assertThat(roundTrip(s, 1)).isEqualTo(1);
        network.get("y", "x").setMode(FaultProxy.Mode.CUT_BOTH);
        assertThat(roundTrip(s, 2)).isEqualTo(2);
        network.get("other", "x").setMode(FaultProxy.Mode.CUT_BOTH);
        assertThatThrownBy(() -> roundTrip(s, 3)).isInstanceOf(SocketTimeoutException.class);
      }
    }
  }
}
