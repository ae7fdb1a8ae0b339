// SPDX-License-Identifier: MIT
/*
 * wl_chroot - a process that chroot()s into a directory, checkpointed,
 * killed and restored there.
 *
 * usage: wl_chroot DIR
 *
 * Before chroot it writes DIR/data with a pattern, opens it, fills 1 MiB
 * of anonymous memory and records DIR's device and inode.  Then it
 * chroot()s into DIR and chdir()s to its "sub" directory, says READY and
 * waits for SIGUSR1.  It then checks that its root is still DIR (stat "/"
 * gives DIR's device and inode, and ".." of "/" is "/" itself), that its
 * working directory is "sub", that absolute paths resolve inside DIR (open
 * "/data"), that the descriptor opened before chroot reads on at its
 * offset, and its memory.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "wl_common.h"

#define MEM_LEN (1 << 20)
#define DATA_LEN 8192
#define SEED 0xc4001

static volatile sig_atomic_t go;

static void on_usr1(int sig)
{
	(void)sig;
	go = 1;
}

static void check_root(const struct stat *dir)
{
	struct stat st, up;

	if (stat("/", &st) || stat("/..", &up))
		wl_fail("chroot.root", "stat /: %m");
	else if (st.st_dev != dir->st_dev || st.st_ino != dir->st_ino)
		wl_fail("chroot.root", "/ is %lx:%lu, want %lx:%lu",
			(unsigned long)st.st_dev, (unsigned long)st.st_ino,
			(unsigned long)dir->st_dev, (unsigned long)dir->st_ino);
	else if (up.st_ino != st.st_ino)
		wl_fail("chroot.root", "/.. is not / (inode %lu)",
			(unsigned long)up.st_ino);
	else
		wl_pass("chroot.root");
}

static void check_cwd(void)
{
	char buf[256];
	struct stat a, b;

	if (!getcwd(buf, sizeof(buf)))
		wl_fail("chroot.cwd", "getcwd: %m");
	else if (strcmp(buf, "/sub"))
		wl_fail("chroot.cwd", "cwd is '%s', want /sub", buf);
	else if (stat(".", &a) || stat("/sub", &b) || a.st_ino != b.st_ino)
		wl_fail("chroot.cwd", ". is not /sub");
	else
		wl_pass("chroot.cwd");
}

static void check_files(int fd)
{
	static uint64_t buf[DATA_LEN / 8];
	int fd2 = open("/data", O_RDONLY);
	off_t off = lseek(fd, 0, SEEK_CUR);

	if (fd2 < 0 || pread(fd2, buf, DATA_LEN, 0) != DATA_LEN ||
	    wl_check(buf, DATA_LEN, SEED + 1) != (size_t)-1)
		wl_fail("chroot.open", "/data inside the chroot: %m");
	else
		wl_pass("chroot.open");
	if (fd2 >= 0)
		close(fd2);
	if (off != 4096 || read(fd, buf, 4096) != 4096 ||
	    wl_check(buf, 4096, SEED + 1) == (size_t)-1)
		wl_fail("chroot.fd", "offset %ld or its bytes are wrong",
			(long)off);
	else if (pread(fd, buf, DATA_LEN, 0) != DATA_LEN ||
		 wl_check(buf, DATA_LEN, SEED + 1) != (size_t)-1)
		wl_fail("chroot.fd", "contents differ");
	else
		wl_pass("chroot.fd");
}

int main(int argc, char **argv)
{
	static uint64_t data[DATA_LEN / 8];
	char path[4096];
	struct stat dir;
	void *mem;
	int fd;

	if (argc != 2)
		wl_die("usage: wl_chroot DIR");
	wl_own_session();
	signal(SIGUSR1, on_usr1);
	snprintf(path, sizeof(path), "%s/sub", argv[1]);
	if (mkdir(path, 0755) && errno != EEXIST)
		wl_die("mkdir %s", path);
	snprintf(path, sizeof(path), "%s/data", argv[1]);
	wl_fill(data, DATA_LEN, SEED + 1);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, DATA_LEN) != DATA_LEN ||
	    lseek(fd, 4096, SEEK_SET) != 4096)
		wl_die("write %s", path);
	mem = mmap(NULL, MEM_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		wl_die("mmap");
	wl_fill(mem, MEM_LEN, SEED);
	if (stat(argv[1], &dir))
		wl_die("stat %s", argv[1]);
	if (chroot(argv[1]) || chdir("/sub"))
		wl_die("chroot %s", argv[1]);
	wl_ready();
	while (!go)
		pause();
	check_root(&dir);
	check_cwd();
	check_files(fd);
	if (wl_check(mem, MEM_LEN, SEED) != (size_t)-1)
		wl_fail("chroot.memory", "pattern differs");
	else
		wl_pass("chroot.memory");
	return wl_done();
}
