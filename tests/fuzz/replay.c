/* A main for the fuzz targets without libFuzzer (gcc + ASan + UBSan, or clang with
 * coverage): `make unit` runs it to replay a target's seed corpus and its regression
 * inputs (tests/fuzz/corpus/<target>, tests/fuzz/regress/<target>), one forked child per
 * input, as TAP lines. Given files or directories as arguments it runs them all in one
 * process instead (coverage of a grown corpus: tests/fuzz/run_fuzz.py --cov). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "fuzz.h"

#ifndef FUZZ_NAME
#error FUZZ_NAME, the name of the target, must be defined
#endif
#ifndef FUZZ_DIR
#error FUZZ_DIR (the absolute path of tests/fuzz) must be defined
#endif

#define PATH_LEN 4096

static unsigned char *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		return NULL;
	for (;;) {
		size_t got;

		if (n == cap) {
			unsigned char *nb = realloc(buf, cap ? 2 * cap : 4096);

			if (!nb) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = nb;
			cap = cap ? 2 * cap : 4096;
		}
		got = fread(buf + n, 1, cap - n, f);
		if (!got)
			break;
		n += got;
	}
	fclose(f);
	/* Exactly `n` bytes the code may read: a copy of that size, so ASan sees overruns. */
	{
		unsigned char *exact = malloc(n ? n : 1);

		for (size_t i = 0; exact && i < n; i++)
			exact[i] = buf[i];
		free(buf);
		*size = n;
		return exact;
	}
}

static int run_one(const char *path)
{
	size_t size = 0;
	unsigned char *data = slurp(path, &size);

	if (!data) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		return -1;
	}
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	return 0;
}

/* 0 if the input ran to its end in a child, else the child's status. */
static int run_forked(const char *path)
{
	int status = 0;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(run_one(path) ? 2 : 0);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return status;
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return alphasort(a, b);
}

static int visible(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

static unsigned tap_n;

/* Seeds: one TAP line for the directory. Regressions: one per input. */
static int replay_dir(const char *kind, int one_line_each)
{
	char dir[PATH_LEN], path[PATH_LEN];
	struct dirent **names;
	unsigned failed = 0;
	int n;

	snprintf(dir, sizeof(dir), "%s/%s/%s", FUZZ_DIR, kind, FUZZ_NAME);
	if (!is_dir(dir)) {
		if (!one_line_each)
			printf("not ok %u - fuzz_%s: %s: no directory %s\n", ++tap_n, FUZZ_NAME,
			       kind, dir);
		return one_line_each ? 0 : 1;
	}
	n = scandir(dir, &names, visible, by_name);
	if (n <= 0 && !one_line_each) {
		printf("not ok %u - fuzz_%s: %s: empty (%s)\n", ++tap_n, FUZZ_NAME, kind, dir);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		int st;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		st = run_forked(path);
		if (one_line_each)
			printf("%s %u - fuzz_%s: %s %s\n", st ? "not ok" : "ok", ++tap_n, FUZZ_NAME,
			       kind, names[i]->d_name);
		if (st) {
			failed++;
			printf("# %s: exit status %#x (sanitizer report above)\n", path, st);
		}
		free(names[i]);
	}
	free(names);
	if (!one_line_each)
		printf("%s %u - fuzz_%s: %s (%d inputs)\n", failed ? "not ok" : "ok", ++tap_n,
		       FUZZ_NAME, kind, n);
	return failed != 0;
}

static int run_paths(int argc, char **argv)
{
	unsigned count = 0;

	for (int a = 1; a < argc; a++) {
		struct dirent **names;
		int n;

		if (!is_dir(argv[a])) {
			count += run_one(argv[a]) == 0;
			continue;
		}
		n = scandir(argv[a], &names, visible, by_name);
		for (int i = 0; i < n; i++) {
			char path[PATH_LEN];

			snprintf(path, sizeof(path), "%s/%s", argv[a], names[i]->d_name);
			if (!is_dir(path))
				count += run_one(path) == 0;
			free(names[i]);
		}
		if (n > 0)
			free(names);
	}
	fprintf(stderr, "replay %s: %u inputs\n", FUZZ_NAME, count);
	return 0;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc > 1)
		return run_paths(argc, argv);
	bad |= replay_dir("corpus", 0);
	bad |= replay_dir("regress", 1);
	return bad;
}
