/* SPDX-License-Identifier: MIT */
/*
 * Signal and timer state of the kind CRIU's zdtm suite checks (sigpending,
 * sigaltstack, sigtrap, signalfd00, posix_timers, itimer, timerfd,
 * pthread_timers) in the details no other workload covers:
 *  - three queued copies of one real-time signal, in order, with their
 *    values and senders; a standard signal raised twice pending once;
 *  - a signal queued to one thread (rt_tgsigqueueinfo) with its value,
 *    pending for that thread only;
 *  - a second thread's own alternate stack (SS_AUTODISARM), blocked mask
 *    and name;
 *  - an expired POSIX timer whose signal is pending: SI_TIMER, its id
 *    and value;
 *  - ITIMER_VIRTUAL's period and time left; a one-shot ITIMER_PROF due
 *    during the restore, whose signal comes once;
 *  - timerfds: a relative CLOCK_BOOTTIME one with a period, an absolute
 *    CLOCK_REALTIME one, a disarmed one, a non-blocking one;
 *  - a signalfd of the process reading a pending signal with its value;
 *  - SIGTRAP from int3 reaching its handler; SA_RESETHAND still one-shot;
 *  - CPU-clock POSIX timers (posix_timers): a process one with a period,
 *    and a thread one made by the worker that counts the worker's CPU
 *    time only, not the main thread's; the restore's own CPU time is
 *    not counted on them (BALLAST makes it tens of ms).
 * Usage: wl_zdtm_sig DIR.  READY; on SIGUSR1 each is checked.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include "wl_common.h"
#include "wl_fdtable.h"

#define SIG_Q (SIGRTMIN + 1)	/* queued three times to the process */
#define SIG_T (SIGRTMIN + 2)	/* queued to the worker thread */
#define SIG_TMR (SIGRTMIN + 5)	/* an expired POSIX timer's */
#define SIG_SFD (SIGRTMIN + 6)	/* read through a signalfd */
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
#define SIG_PER (SIGRTMIN + 7)	/* a periodic POSIX timer's, blocked */
#define ALT_SIZE (64 * 1024)
/*
 * Memory whose restore takes the restorer some CPU time in the process
 * (tens of ms): CPU timers armed before it would count it, and the
 * ITIMER_PROF due would expire under it.
 */
#define BALLAST (96 << 20)

static volatile sig_atomic_t go, traps, resets, profs;
static pid_t self;
static timer_t tmr, tmr_per, tmr_cpu, tmr_thr;
static long long cpu_left, thr_left;	/* ms left at the checkpoint */
static long long cpu_resume, thr_resume;	/* ms left once we run again */
static char *ballast;
static int tfd_rel, tfd_abs, tfd_off, tfd_nb, sfd;
static time_t abs_when;
static int raise_code;

/* the worker thread: its state, and what it found after the restore */
static pthread_t worker;
static volatile pid_t worker_tid;
static volatile int worker_go, worker_done;
static char alt_stack[ALT_SIZE] __attribute__((aligned(16)));
static char worker_why[256];

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void on_trap(int sig)
{
	(void)sig;
	traps++;
}

static void on_prof(int sig)
{
	(void)sig;
	profs++;
}

static void on_reset(int sig)
{
	(void)sig;
	resets++;
}

static int sigq(int sig, int val)
{
	return sigqueue(self, sig, (union sigval){ .sival_int = val });
}

static int tgsigq(pid_t tid, int sig, int val)
{
	siginfo_t si = { .si_signo = sig, .si_code = SI_QUEUE,
			 .si_pid = self, .si_uid = getuid() };

	si.si_value.sival_int = val;
	return syscall(SYS_rt_tgsigqueueinfo, self, tid, sig, &si);
}

/* sets up its own stack, mask and name; after the restore checks them */
static long long left_ms(timer_t t)
{
	struct itimerspec its;

	if (timer_gettime(t, &its))
		return -1;
	return its.it_value.tv_sec * 1000LL + its.it_value.tv_nsec / 1000000;
}

/* ms of this thread's CPU time */
static void burn(int ms)
{
	double end = wl_now(CLOCK_THREAD_CPUTIME_ID) + ms / 1000.0;

	while (wl_now(CLOCK_THREAD_CPUTIME_ID) < end)
		;
}

/* the worker's CPU timer counts the worker's time */
static void worker_cpu_timer(void)
{
	long long a = left_ms(tmr_thr), b;

	burn(60);
	b = left_ms(tmr_thr);
	if (a < 0 || a - b < 50)
		snprintf(worker_why, sizeof(worker_why),
			 "its CPU-clock timer went from %lld to %lld ms over 60 ms of its CPU time",
			 a, b);
}

static void *worker_fn(void *arg)
{
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	struct itimerspec thr = { .it_value = { 300, 0 } };
	stack_t ss = { .ss_sp = alt_stack, .ss_size = ALT_SIZE,
		       .ss_flags = SS_AUTODISARM };
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	char name[16] = "";
	sigset_t m, p;
	siginfo_t si;

	(void)arg;
	sigemptyset(&p);
	sigemptyset(&m);
	sigaddset(&m, SIG_T);
	sigaddset(&m, SIGWINCH);
	/* SIGUSR1 is main's alone: a process-directed one taken here (the
	 * kernel passes over a main thread with another signal pending, as
	 * SIGPROF after a thaw) would leave main in sigsuspend for good */
	sigaddset(&m, SIGUSR1);
	sigaddset(&p, SIGTTOU);
	if (sigaltstack(&ss, NULL) || pthread_sigmask(SIG_BLOCK, &m, NULL) ||
	    pthread_sigmask(SIG_UNBLOCK, &p, NULL) ||
	    pthread_setname_np(pthread_self(), "zdtm-sigwork") ||
	    timer_create(CLOCK_THREAD_CPUTIME_ID, &none, &tmr_thr) ||
	    timer_settime(tmr_thr, 0, &thr, NULL))
		snprintf(worker_why, sizeof(worker_why), "setup failed");
	worker_tid = syscall(SYS_gettid);
	while (!worker_go)
		nanosleep(&ts, NULL);

	if (sigaltstack(NULL, &ss) || ss.ss_sp != alt_stack ||
	    ss.ss_size != ALT_SIZE || (unsigned)ss.ss_flags != SS_AUTODISARM)
		snprintf(worker_why, sizeof(worker_why),
			 "altstack %p %zu flags %#x, want %p %d %#x", ss.ss_sp,
			 ss.ss_size, ss.ss_flags, (void *)alt_stack, ALT_SIZE,
			 SS_AUTODISARM);
	else if (pthread_sigmask(SIG_BLOCK, NULL, &m) ||
		 !sigismember(&m, SIG_T) || !sigismember(&m, SIGWINCH) ||
		 sigismember(&m, SIGTTOU) || !sigismember(&m, SIG_Q))
		snprintf(worker_why, sizeof(worker_why),
			 "blocked mask lost (SIG_T %d SIGWINCH %d SIGTTOU %d SIG_Q %d)",
			 sigismember(&m, SIG_T), sigismember(&m, SIGWINCH),
			 sigismember(&m, SIGTTOU), sigismember(&m, SIG_Q));
	else if (pthread_getname_np(pthread_self(), name, sizeof(name)) ||
		 strcmp(name, "zdtm-sigwork"))
		snprintf(worker_why, sizeof(worker_why), "name '%s'", name);
	else if (syscall(SYS_gettid) != worker_tid)
		snprintf(worker_why, sizeof(worker_why), "tid changed");
	else if (sigpending(&p) || !sigismember(&p, SIG_T))
		snprintf(worker_why, sizeof(worker_why),
			 "the signal queued to this thread is not pending");
	else if (sigtimedwait(&m, &si, &(struct timespec){ 0 }) != SIG_T ||
		 si.si_code != SI_QUEUE || si.si_value.sival_int != 4242 ||
		 si.si_pid != self)
		snprintf(worker_why, sizeof(worker_why),
			 "thread signal: signo %d code %d value %d pid %d",
			 si.si_signo, si.si_code, si.si_value.sival_int,
			 si.si_pid);
	else
		worker_cpu_timer();
	worker_done = 1;
	return NULL;
}

static void setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_trap };
	sigset_t m, u;
	siginfo_t si;

	sigemptyset(&m);
	sigaddset(&m, SIG_Q);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIG_T);
	sigaddset(&m, SIG_TMR);
	sigaddset(&m, SIG_SFD);
	sigaddset(&m, SIG_PER);
	sigaddset(&m, SIGTTOU);
	if (sigprocmask(SIG_BLOCK, &m, NULL))
		wl_die("sigprocmask");
	/* the si_code raise(3) gives here, to compare with after the restore */
	sigemptyset(&u);
	sigaddset(&u, SIGUSR2);
	if (raise(SIGUSR2) || sigwaitinfo(&u, &si) != SIGUSR2)
		wl_die("raise SIGUSR2");
	raise_code = si.si_code;
	if (sigq(SIG_Q, 11) || sigq(SIG_Q, 22) || sigq(SIG_Q, 33) ||
	    raise(SIGUSR2) || raise(SIGUSR2) || sigq(SIG_SFD, 66))
		wl_die("queue signals");
	if (sigaction(SIGTRAP, &sa, NULL))
		wl_die("sigaction SIGTRAP");
	sa.sa_handler = on_reset;
	sa.sa_flags = SA_RESETHAND;
	if (sigaction(SIGURG, &sa, NULL))
		wl_die("sigaction SIGURG");
	sigemptyset(&m);
	sigaddset(&m, SIG_SFD);
	sfd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		wl_die("signalfd");
}

/* a POSIX timer armed as its, once its (blocked) signal is pending */
static timer_t pending_timer(struct sigevent *sev, const struct itimerspec *its)
{
	struct timespec ts = { 0, 1000000 };
	timer_t t;
	sigset_t p;
	int i;

	if (timer_create(CLOCK_MONOTONIC, sev, &t) ||
	    timer_settime(t, 0, its, NULL))
		wl_die("posix timer (signal %d)", sev->sigev_signo);
	for (i = 0; i < 5000; i++) {
		if (!sigpending(&p) && sigismember(&p, sev->sigev_signo))
			return t;
		nanosleep(&ts, NULL);
	}
	wl_die("the POSIX timer of signal %d did not fire", sev->sigev_signo);
}

static void setup_timers(void)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL,
				.sigev_signo = SIG_TMR,
				.sigev_value.sival_int = 77 };
	struct itimerspec one = { .it_value = { 0, 1000000 } };
	struct itimerval prof = { .it_interval = { 50, 0 },
				  .it_value = { 100, 0 } };
	struct itimerspec rel = { .it_interval = { 3, 0 },
				  .it_value = { 1000, 0 } };
	struct itimerspec ab = { 0 };
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	struct itimerspec cpu = { .it_interval = { 5, 0 },
				  .it_value = { 500, 0 } };

	if (timer_create(CLOCK_PROCESS_CPUTIME_ID, &none, &tmr_cpu) ||
	    timer_settime(tmr_cpu, 0, &cpu, NULL))
		wl_die("CPU-clock timer");
	tmr = pending_timer(&sev, &one);
	/* posix_timers: a periodic timer whose signal waits, blocked */
	sev.sigev_signo = SIG_PER;
	sev.sigev_value.sival_int = 88;
	one.it_interval.tv_nsec = 100000000;
	tmr_per = pending_timer(&sev, &one);
	if (setitimer(ITIMER_VIRTUAL, &prof, NULL))
		wl_die("ITIMER_VIRTUAL");
	tfd_rel = timerfd_create(CLOCK_BOOTTIME, 0);
	tfd_abs = timerfd_create(CLOCK_REALTIME, 0);
	tfd_off = timerfd_create(CLOCK_MONOTONIC, 0);
	tfd_nb = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	abs_when = time(NULL) + 2000;
	ab.it_value.tv_sec = abs_when;
	if (tfd_rel < 0 || tfd_abs < 0 || tfd_off < 0 || tfd_nb < 0 ||
	    timerfd_settime(tfd_rel, 0, &rel, NULL) ||
	    timerfd_settime(tfd_abs, TFD_TIMER_ABSTIME, &ab, NULL) ||
	    timerfd_settime(tfd_nb, 0, &rel, NULL))
		wl_die("timerfd");
}

static void check_queue(void)
{
	struct timespec z = { 0 };
	sigset_t m, p;
	siginfo_t si;
	int i, mark = wl_mark();

	sigemptyset(&m);
	sigaddset(&m, SIG_Q);
	for (i = 1; i <= 3; i++) {
		memset(&si, 0, sizeof(si));
		if (sigtimedwait(&m, &si, &z) != SIG_Q) {
			wl_fail("sig.rt_queue", "copy %d of 3 missing", i);
			break;
		}
		if (si.si_code != SI_QUEUE || si.si_value.sival_int != 11 * i ||
		    si.si_pid != self)
			wl_fail("sig.rt_queue",
				"copy %d: code %d value %d pid %d, want %d %d %d",
				i, si.si_code, si.si_value.sival_int, si.si_pid,
				SI_QUEUE, 11 * i, self);
	}
	if (i > 3 && sigtimedwait(&m, &si, &z) == SIG_Q)
		wl_fail("sig.rt_queue", "a fourth copy (value %d)",
			si.si_value.sival_int);
	wl_verdict("sig.rt_queue", mark);

	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	memset(&si, 0, sizeof(si));
	i = sigtimedwait(&m, &si, &z);
	if (i != SIGUSR2 || si.si_code != raise_code || si.si_pid != self)
		wl_fail("sig.std_once", "got %d code %d pid %d, want SIGUSR2 %d %d",
			i, si.si_code, si.si_pid, raise_code, self);
	else if (sigtimedwait(&m, &si, &z) == SIGUSR2)
		wl_fail("sig.std_once", "SIGUSR2 pending twice");
	else
		wl_pass("sig.std_once");

	/* the thread's own signal is not the process's */
	if (sigpending(&p) || sigismember(&p, SIG_T))
		wl_fail("sig.thread_only", "SIG_T pending for the main thread");
	else
		wl_pass("sig.thread_only");
}

/* got ms left within slack ms of want, and t's period kept */
static void check_left(const char *name, timer_t t, long long want,
		       long long got, long period, long long slack)
{
	struct itimerspec its;

	if (timer_gettime(t, &its) || its.it_interval.tv_sec != period ||
	    its.it_interval.tv_nsec)
		wl_fail(name, "period %ld.%09ld s, want %ld s",
			(long)its.it_interval.tv_sec, its.it_interval.tv_nsec,
			period);
	else if (got > want || got < want - slack)
		wl_fail(name, "%lld ms left as we ran again, want %lld (at most %lld less)",
			got, want, slack);
	else
		wl_pass(name);
}

/*
 * As we ran again, the CPU-clock timers had what they had at the
 * checkpoint, less the CPU time we and the worker spent between their
 * read and the freeze, the freeze's own syscalls in us, and what ran in
 * us after the restorer armed them as its last step: its trap and
 * crfs-restore's last syscalls.  Measured: 2 to 6 ms, after a freeze
 * and thaw and after a restore alike, up to 10 ms with three CPU hogs
 * beside (the restore's own CPU time, 30 ms for BALLAST, no longer
 * counts).
 */
#define CPU_SLACK 20

static void check_cpu_timers(void)
{
	long long a, b, pa, pb;

	check_left("timer.cpu_process", tmr_cpu, cpu_left, cpu_resume, 5,
		   CPU_SLACK);
	check_left("timer.cpu_thread", tmr_thr, thr_left, thr_resume, 0,
		   CPU_SLACK);
	/* our CPU time is not the worker's */
	a = left_ms(tmr_thr);
	pa = left_ms(tmr_cpu);
	burn(100);
	b = left_ms(tmr_thr);
	pb = left_ms(tmr_cpu);
	if (a - b > 30 || pa - pb < 90)
		wl_fail("timer.cpu_whose", "over 100 ms of the main thread's CPU time the worker's timer went %lld -> %lld, the process's %lld -> %lld",
			a, b, pa, pb);
	else
		wl_pass("timer.cpu_whose");
}

static void check_worker(void)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int i;

	check_cpu_timers();
	worker_go = 1;
	for (i = 0; i < 2000 && !worker_done; i++)
		nanosleep(&ts, NULL);
	if (!worker_done)
		wl_fail("thread.state", "the worker did not answer");
	else if (worker_why[0])
		wl_fail("thread.state", "%s", worker_why);
	else
		wl_pass("thread.state");
}

static void check_posix_timer(void)
{
	struct timespec z = { 0 };
	sigset_t m;
	siginfo_t si = { 0 };

	sigemptyset(&m);
	sigaddset(&m, SIG_TMR);
	if (sigtimedwait(&m, &si, &z) != SIG_TMR)
		wl_fail("timer.pending", "the expired timer's signal is not pending");
	else if (si.si_code != SI_TIMER || si.si_value.sival_int != 77 ||
		 si.si_timerid != (int)(long)tmr)
		wl_fail("timer.pending", "code %d value %d timerid %d, want %d 77 %d",
			si.si_code, si.si_value.sival_int, si.si_timerid,
			SI_TIMER, (int)(long)tmr);
	else
		wl_pass("timer.pending");

	/*
	 * A timer's signal is queued once: later expiries while it waits
	 * only count as overruns, so after a few periods there is still
	 * exactly one, from that timer.
	 */
	nanosleep(&(struct timespec){ 0, 250000000 }, NULL);
	sigemptyset(&m);
	sigaddset(&m, SIG_PER);
	memset(&si, 0, sizeof(si));
	if (sigtimedwait(&m, &si, &z) != SIG_PER)
		wl_fail("timer.periodic_once", "the periodic timer's signal is not pending");
	else if (si.si_code != SI_TIMER || si.si_value.sival_int != 88 ||
		 si.si_timerid != (int)(long)tmr_per)
		wl_fail("timer.periodic_once", "code %d value %d timerid %d",
			si.si_code, si.si_value.sival_int, si.si_timerid);
	else if (sigtimedwait(&m, &si, &z) == SIG_PER)
		wl_fail("timer.periodic_once", "pending twice (code %d overrun %d)",
			si.si_code, si.si_overrun);
	else
		wl_pass("timer.periodic_once");
	timer_delete(tmr_per);
}

static void check_itimer(void)
{
	struct itimerval v;

	/* our user time so far: check_worker's 100 ms, and a little */
	if (getitimer(ITIMER_VIRTUAL, &v) || v.it_interval.tv_sec != 50 ||
	    v.it_interval.tv_usec || v.it_value.tv_sec > 100 ||
	    v.it_value.tv_sec * 1000 + v.it_value.tv_usec / 1000 < 99500)
		wl_fail("itimer.virtual", "interval %ld.%06ld left %ld.%06ld, want 50 and 99.5..100",
			(long)v.it_interval.tv_sec, (long)v.it_interval.tv_usec,
			(long)v.it_value.tv_sec, (long)v.it_value.tv_usec);
	else
		wl_pass("itimer.virtual");
}

static void check_timerfd(void)
{
	struct itimerspec v;
	uint64_t n;
	long left;
	int fl, mark = wl_mark();

	if (timerfd_gettime(tfd_rel, &v) || v.it_interval.tv_sec != 3 ||
	    v.it_interval.tv_nsec || v.it_value.tv_sec >= 1000 ||
	    v.it_value.tv_sec < 900)
		wl_fail("timerfd.boottime", "interval %ld left %ld, want 3 and 900..1000",
			(long)v.it_interval.tv_sec, (long)v.it_value.tv_sec);
	left = abs_when - time(NULL);
	if (timerfd_gettime(tfd_abs, &v) || v.it_interval.tv_sec ||
	    v.it_value.tv_sec > left + 1 || v.it_value.tv_sec < left - 2)
		wl_fail("timerfd.abs_realtime", "left %ld, want about %ld",
			(long)v.it_value.tv_sec, left);
	if (timerfd_gettime(tfd_off, &v) || v.it_value.tv_sec ||
	    v.it_value.tv_nsec || v.it_interval.tv_sec)
		wl_fail("timerfd.disarmed", "armed: left %ld interval %ld",
			(long)v.it_value.tv_sec, (long)v.it_interval.tv_sec);
	fl = fcntl(tfd_nb, F_GETFL);
	if (fl < 0 || !(fl & O_NONBLOCK) || !(fcntl(tfd_nb, F_GETFD) & FD_CLOEXEC))
		wl_fail("timerfd.flags", "flags %#x fd flags %#x", fl,
			fcntl(tfd_nb, F_GETFD));
	else if (read(tfd_nb, &n, sizeof(n)) != -1 || errno != EAGAIN)
		wl_fail("timerfd.flags", "a read did not say EAGAIN");
	wl_verdict("timerfd", mark);
}

static void check_signalfd(void)
{
	struct signalfd_siginfo si;
	int fl = fcntl(sfd, F_GETFL);

	if (fl < 0 || !(fl & O_NONBLOCK))
		wl_fail("signalfd.read", "O_NONBLOCK lost (flags %#x)", fl);
	else if (read(sfd, &si, sizeof(si)) != sizeof(si))
		wl_fail("signalfd.read", "nothing to read: %s", strerror(errno));
	else if ((int)si.ssi_signo != SIG_SFD || si.ssi_int != 66 ||
		 si.ssi_code != SI_QUEUE || (pid_t)si.ssi_pid != self)
		wl_fail("signalfd.read", "signo %u int %d code %d pid %u",
			si.ssi_signo, si.ssi_int, si.ssi_code, si.ssi_pid);
	else if (read(sfd, &si, sizeof(si)) != -1 || errno != EAGAIN)
		wl_fail("signalfd.read", "a second signal to read");
	else
		wl_pass("signalfd.read");
}

static void check_handlers(void)
{
	struct sigaction sa;

	__asm__ volatile("int3");
	if (traps != 1)
		wl_fail("sig.sigtrap", "int3 reached the handler %d times", traps);
	else
		wl_pass("sig.sigtrap");
	raise(SIGURG);
	if (resets != 1 || sigaction(SIGURG, NULL, &sa) ||
	    sa.sa_handler != SIG_DFL)
		wl_fail("sig.resethand", "handled %d, handler now %p", resets,
			(void *)sa.sa_handler);
	else
		wl_pass("sig.resethand");
}

/* the virtual timer's one expiry reaches us once we run in user mode */
static void check_prof(void)
{
	double end = wl_now(CLOCK_MONOTONIC) + 5;
	volatile unsigned long spin = 0;

	while (!profs && wl_now(CLOCK_MONOTONIC) < end)
		spin++;
	/*
	 * Once: twice was a timer expiring on the freeze's own syscalls
	 * saved both armed and pending; never was the restore's CPU time
	 * making it expire before its signal was drained with the rest.
	 */
	if (profs != 1)
		wl_fail("itimer.prof_due", "SIGPROF came %d times (want 1)",
			profs);
	else
		wl_pass("itimer.prof_due");
}

static void check_suspend_mask(const sigset_t *want)
{
	sigset_t now;
	int sig;

	sigprocmask(SIG_BLOCK, NULL, &now);
	for (sig = 1; sig < SIGRTMAX; sig++)
		if (sigismember(&now, sig) != sigismember(want, sig)) {
			wl_fail("sig.suspend_mask",
				"after sigsuspend signal %d is %s", sig,
				sigismember(&now, sig) ? "blocked" : "not blocked");
			return;
		}
	wl_pass("sig.suspend_mask");
}

/* the descriptor table at READY (wl_fdtable.h) */
static struct wl_fdtable fdt0;

int main(int argc, char **argv)
{
	struct timespec ts = { 0, 1000000 };
	sigset_t m, before, wait_mask;
	struct itimerval virt;

	(void)argc;
	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0);	/* what was checked before a crash */
	self = getpid();
	signal(SIGUSR1, on_usr1);
	setup_signals();
	if (!(ballast = malloc(BALLAST)))
		wl_die("malloc");
	wl_fill(ballast, BALLAST, 7);
	setup_timers();
	if (pthread_create(&worker, NULL, worker_fn, NULL))
		wl_die("pthread_create");
	while (!worker_tid)
		nanosleep(&ts, NULL);
	if (tgsigq(worker_tid, SIG_T, 4242))
		wl_die("rt_tgsigqueueinfo");
	/*
	 * A one-shot ITIMER_PROF all but due: it counts only our own CPU
	 * time, which we hardly use until SIGUSR1, so it is still armed at
	 * the checkpoint, and expires as soon as we run again: during the
	 * restore, whose signal must not be lost.
	 */
	signal(SIGPROF, on_prof);
	if (setitimer(ITIMER_PROF, &(struct itimerval){ .it_value = { 0, 1 } }, NULL))
		wl_die("ITIMER_PROF");
	/*
	 * Waits in sigsuspend with SIGUSR1 let through: the mask the kernel
	 * puts back when it returns is the saved one, not the blocked mask a
	 * checkpoint sees meanwhile.
	 */
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &m, NULL) || sigprocmask(SIG_BLOCK, NULL, &before))
		wl_die("sigprocmask");
	wait_mask = before;
	sigdelset(&wait_mask, SIGUSR1);
	cpu_left = left_ms(tmr_cpu);
	thr_left = left_ms(tmr_thr);
	wl_fdt_take(&fdt0);
	wl_ready();
	while (!go)
		sigsuspend(&wait_mask);
	wl_fdt_check("zdtm_sig.fd_table", &fdt0);
	cpu_resume = left_ms(tmr_cpu);
	thr_resume = left_ms(tmr_thr);
	getitimer(ITIMER_VIRTUAL, &virt);
	/* what the restore charged to our CPU clocks: the test's log shows it */
	printf("INFO cpu_charged: process %lld ms, worker %lld ms; ITIMER_VIRTUAL %ld.%06ld s left of 100\n",
	       cpu_left - cpu_resume, thr_left - thr_resume,
	       (long)virt.it_value.tv_sec, (long)virt.it_value.tv_usec);
	check_suspend_mask(&before);
	check_prof();
	check_queue();
	check_worker();
	check_posix_timer();
	check_itimer();
	check_timerfd();
	check_signalfd();
	check_handlers();
	return wl_done();
}
