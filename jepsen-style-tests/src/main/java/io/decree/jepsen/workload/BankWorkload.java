package io.decree.jepsen.workload;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.decree.proto.examples.bank.v1.AdjustRequest;
import io.decree.proto.examples.bank.v1.ReadRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Bank: accounts spread over the participants; transfers between any two (often at two
 * participants, sometimes at one); reads of every balance in one transaction (a consistent snapshot
 * when it commits). Money is neither created nor destroyed.
 */
public final class BankWorkload implements Workload {
  static final int ACCOUNTS_PER_PARTICIPANT = 4;
  static final long OPENING_BALANCE = 100;

  private int participantCount;

  @Override
  public String name() {
    return "bank";
  }

  @Override
  public List<Map<String, Long>> openingAccounts(int participants) {
    participantCount = participants;
    List<Map<String, Long>> out = new ArrayList<>();
    for (int p = 1; p <= participants; p++) {
      Map<String, Long> accounts = new TreeMap<>();
      for (int a = 0; a < ACCOUNTS_PER_PARTICIPANT; a++) {
        accounts.put(account(p, a), OPENING_BALANCE);
      }
      out.add(accounts);
    }
    return out;
  }

  static String account(int participant, int index) {
    return "a" + participant + "_" + index;
  }

  @Override
  public long bankTotal() {
    return (long) participantCount * ACCOUNTS_PER_PARTICIPANT * OPENING_BALANCE;
  }

  @Override
  public void step(Session session, List<String> participants) {
    Random random = session.random();
    if (random.nextInt(4) == 0) {
      read(session, participants);
    } else {
      transfer(session, participants, random);
    }
  }

  private static void transfer(Session session, List<String> participants, Random random) {
    int n = participants.size() * ACCOUNTS_PER_PARTICIPANT;
    int from = random.nextInt(n);
    int to = random.nextInt(n - 1);
    if (to >= from) {
      to++;
    }
    long amount = 1 + random.nextInt(10);
    int fromP = from / ACCOUNTS_PER_PARTICIPANT;
    int toP = to / ACCOUNTS_PER_PARTICIPANT;
    String fromAccount = account(fromP + 1, from % ACCOUNTS_PER_PARTICIPANT);
    String toAccount = account(toP + 1, to % ACCOUNTS_PER_PARTICIPANT);
    JsonObject value = new JsonObject();
    value.addProperty("from", fromAccount);
    value.addProperty("to", toAccount);
    value.addProperty("amount", amount);
    JsonArray ps = new JsonArray();
    ps.add(participants.get(Math.min(fromP, toP)));
    if (fromP != toP) {
      ps.add(participants.get(Math.max(fromP, toP)));
    }
    value.add("participants", ps);
    // Lock order: lower participant first, then lower account, so transfers never wait in a cycle.
    boolean withdrawFirst = from < to;
    session.transaction(
        "transfer",
        value,
        tx -> {
          if (withdrawFirst) {
            adjust(session, participants.get(fromP), fromAccount, -amount);
            adjust(session, participants.get(toP), toAccount, amount);
          } else {
            adjust(session, participants.get(toP), toAccount, amount);
            adjust(session, participants.get(fromP), fromAccount, -amount);
          }
          return null;
        });
  }

  private static void adjust(Session session, String participant, String account, long amount) {
    session
        .accounts(participant)
        .adjust(AdjustRequest.newBuilder().setAccount(account).setAmount(amount).build());
  }

  private static void read(Session session, List<String> participants) {
    JsonObject value = new JsonObject();
    JsonArray ps = new JsonArray();
    participants.forEach(ps::add);
    value.add("participants", ps);
    session.transaction(
        "read",
        value,
        tx -> {
          JsonObject balances = new JsonObject();
          for (String p : participants) {
            session
                .accounts(p)
                .read(ReadRequest.getDefaultInstance())
                .getBalancesMap()
                .forEach(balances::addProperty);
          }
          JsonObject result = new JsonObject();
          result.add("participants", ps);
          result.add("balances", balances);
          return result;
        });
  }
}
