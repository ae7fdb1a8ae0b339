// SPDX-License-Identifier: MIT
// A JVM workload for t_java: 8 threads counting under a lock and sleeping
// 1 ms, a 200k-entry HashMap, 64 MiB of patterned arrays, and a TCP
// ping-pong between two threads over 127.0.0.1.  Prints READY, then waits
// for the file named by its argument; then checks everything still holds
// and runs on, prints PASS/FAIL lines and exits 0 or 1.
import java.io.*;
import java.net.*;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.atomic.*;
import java.util.zip.CRC32;

public class WlJava {
	static final Object lock = new Object();
	static long[] counts = new long[8];
	static AtomicLong pings = new AtomicLong();
	static volatile String pingErr = null;
	static int fails = 0;

	static void check(String name, boolean ok, String why) {
		System.out.println(ok ? "PASS " + name : "FAIL " + name + ": " + why);
		if (!ok)
			fails++;
	}

	static long crc(byte[][] data) {
		CRC32 c = new CRC32();
		for (byte[] b : data)
			c.update(b);
		return c.getValue();
	}

	public static void main(String[] args) throws Exception {
		long pid = ProcessHandle.current().pid();
		byte[][] data = new byte[64][1 << 20];
		for (int i = 0; i < data.length; i++)
			for (int j = 0; j < data[i].length; j++)
				data[i][j] = (byte)(i * 31 + j * 7);
		long want = crc(data);
		HashMap<Integer, String> map = new HashMap<>();
		for (int i = 0; i < 200000; i++)
			map.put(i, "v" + (i * 2654435761L % 4294967291L));
		for (int t = 0; t < counts.length; t++) {
			final int k = t;
			Thread th = new Thread(() -> {
				for (;;) {
					synchronized (lock) { counts[k]++; }
					try { Thread.sleep(1); } catch (InterruptedException e) { return; }
				}
			});
			th.setDaemon(true);
			th.start();
		}
		ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
		Thread srv = new Thread(() -> {
			try (Socket c = ss.accept()) {
				BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream()));
				PrintStream w = new PrintStream(c.getOutputStream(), true);
				String l;
				while ((l = r.readLine()) != null)
					w.println(l);
			} catch (IOException e) { pingErr = "server: " + e; }
		});
		srv.setDaemon(true);
		srv.start();
		Thread cli = new Thread(() -> {
			try (Socket c = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
				BufferedReader r = new BufferedReader(new InputStreamReader(c.getInputStream()));
				PrintStream w = new PrintStream(c.getOutputStream(), true);
				for (long n = 0; ; n++) {
					w.println(n);
					String l = r.readLine();
					if (l == null || !l.equals(Long.toString(n))) {
						pingErr = "echo " + n + ": " + l;
						return;
					}
					pings.set(n);
					Thread.sleep(1);
				}
			} catch (Exception e) { pingErr = "client: " + e; }
		});
		cli.setDaemon(true);
		cli.start();
		System.out.println("READY");
		Path go = Paths.get(args[0]);
		while (!Files.exists(go))
			Thread.sleep(10);

		check("java.pid", ProcessHandle.current().pid() == pid, "pid changed");
		check("java.memory", crc(data) == want, "checksum differs");
		int bad = 0;
		for (int i = 0; i < 200000; i++)
			if (!("v" + (i * 2654435761L % 4294967291L)).equals(map.get(i)))
				bad++;
		check("java.map", bad == 0 && map.size() == 200000, bad + " wrong entries");
		long[] before;
		synchronized (lock) { before = counts.clone(); }
		long p0 = pings.get();
		long t0 = System.nanoTime();
		Thread.sleep(300);
		long el = (System.nanoTime() - t0) / 1000000;
		check("java.sleep", el >= 300 && el < 5000, el + " ms");
		int stuck = 0;
		synchronized (lock) {
			for (int t = 0; t < counts.length; t++)
				if (counts[t] == before[t])
					stuck++;
		}
		check("java.threads", stuck == 0, stuck + " threads stuck");
		System.gc();
		check("java.gc", crc(data) == want, "checksum differs after a GC");
		check("java.tcp", pingErr == null && pings.get() > p0,
		      "pings " + p0 + " -> " + pings.get() + ", " + pingErr);
		System.exit(fails == 0 ? 0 : 1);
	}
}
