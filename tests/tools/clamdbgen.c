/* clamdbgen DIR [HSB HDB NDB]: write a ClamAV database the size of the
 * official one, for the benchmarks (bench/scan.sh):
 *   DIR/bench.hsb  HSB sha256 hash signatures   (default 4,000,000)
 *   DIR/bench.hdb  HDB md5 hash signatures      (default 2,000,000)
 *   DIR/bench.ndb  NDB body patterns            (default   150,000; 16..32 bytes, any offset)
 * The content is deterministic (a fixed-seed splitmix64), so two runs write
 * the same bytes; random digests and patterns never match a benchmark file.
 * Files are written to DIR/NAME.tmp and renamed, so an interrupted run
 * leaves no half database. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x5167617465ULL; /* "Sgate" */

static uint64_t next(void)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static char *hex(char *p, size_t bytes)
{
	static const char digits[] = "0123456789abcdef";
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < bytes; i++) {
		if (i % 8 == 0)
			v = next();
		*p++ = digits[(v >> 4) & 15];
		*p++ = digits[v & 15];
		v >>= 8;
	}
	return p;
}

static int write_db(const char *dir, const char *ext, unsigned long n)
{
	char path[4096], tmp[4200], line[256], *p;
	FILE *f;
	unsigned long i;
	size_t bytes;

	snprintf(path, sizeof(path), "%s/bench.%s", dir, ext);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!(f = fopen(tmp, "w")) || setvbuf(f, NULL, _IOFBF, 1 << 20) != 0) {
		perror(tmp);
		return 1;
	}
	for (i = 0; i < n; i++) {
		p = line;
		if (!strcmp(ext, "ndb")) {
			p += sprintf(p, "Bench.Ndb.%lu:0:*:", i);
			bytes = 16 + next() % 17;
			p = hex(p, bytes);
		} else {
			p = hex(p, !strcmp(ext, "hsb") ? 32 : 16);
			/* sizes 1 KiB .. 1 MiB + 1 KiB: about 1M distinct sizes per file
			 * (far more make libclamav's size table outgrow its pool) */
			p += sprintf(p, ":%llu:Bench.%s.%lu", 1024ULL + next() % (1ULL << 20),
				     !strcmp(ext, "hsb") ? "Hsb" : "Hdb", i);
		}
		*p++ = '\n';
		if (fwrite(line, 1, (size_t)(p - line), f) != (size_t)(p - line)) {
			perror(tmp);
			fclose(f);
			return 1;
		}
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long hsb = 4000000, hdb = 2000000, ndb = 150000;

	if (argc != 2 && argc != 5) {
		fprintf(stderr, "usage: clamdbgen DIR [HSB HDB NDB]\n");
		return 2;
	}
	if (argc == 5) {
		hsb = strtoul(argv[2], NULL, 10);
		hdb = strtoul(argv[3], NULL, 10);
		ndb = strtoul(argv[4], NULL, 10);
	}
	if (write_db(argv[1], "hsb", hsb) || write_db(argv[1], "hdb", hdb) ||
	    write_db(argv[1], "ndb", ndb))
		return 1;
	printf("%lu signatures (%lu sha256, %lu md5, %lu body patterns) in %s\n",
	       hsb + hdb + ndb, hsb, hdb, ndb, argv[1]);
	return 0;
}
