/*
 * sanji-pki.c - the county's certificate authority on the command line:
 * the usage text, the options, the messages every command prints, and
 * main(), which hands each command to its own file.
 *
 * One directory holds one county CA:
 *
 *   ca.crt    the CA certificate (the trust anchor every node is given)
 *   ca.key    its P-256 private key, mode 0600
 *   serial    the next certificate serial number, in hex
 *   index     revoked certificates, one per line: <serial hex> <unix time> <node id>
 *   crl.pem   the CRL made from index, published to every county server and relay
 *
 * Commands: init (pki_init.c), issue (pki_issue.c), revoke and crl
 * (pki_revoke.c), show (pki_show.c), enrol (pki_enrol.c); see usage() or
 * docs/PKI.md.  enrol seals a node's certificate, key, CA, CRL and server
 * address into one bundle under a one-time passphrase (common/net/enrol.h) and
 * writes the passphrase on a slip for the township office.
 * Every node certificate carries exactly one identity URI in its
 * subjectAltName, "sanji:<role>:<unit>[:<name>]" (common/domain/identity.h), plus
 * DNS names and IP addresses for the hosts a server or relay listens on.
 *
 * Private keys are created with O_CREAT|O_EXCL and mode 0600 and are never
 * overwritten.  Every failure prints what was wrong and what to do, and
 * exits with status 1 (2 for a usage error).
 *
 * Entry point: main().
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "pki_int.h"

static void usage(FILE *f)
{
    fputs("用法 / usage:\n"
          "  " PROG " init   --dir D --county CODE [--name 县名] [--days 3650]\n"
          "  " PROG " issue  --dir D --role ROLE --unit CODE [--name N] [--host H,H...]\n"
          "                  [--days 825 | --minutes M] [--not-before UNIX] [--not-after UNIX]\n"
          "                  --out PREFIX\n"
          "  " PROG " revoke --dir D --cert FILE\n"
          "  " PROG " crl    --dir D [--days 30]\n"
          "  " PROG " show   --cert FILE\n"
          "  " PROG " enrol  --dir D --orgunits CSV --address HOST:PORT[,HOST:PORT]\n"
          "                  (--township CODE | --unit CODE [--role ROLE] [--name N]\n"
          "                   [--host H,H...]) [--days 825] --out DIR\n"
          "\n"
          "  ROLE: village | relay | township-desk | county-desk | department-desk | county\n"
          "        (department-desk: --unit is the county, --name the department's code)\n"
          "  CODE: 12-digit org unit code (county codes end in 000000, township codes in 000)\n"
          "  init   creates D/ca.crt, D/ca.key (0600), D/serial, D/index, D/crl.pem\n"
          "  issue  creates PREFIX.crt and PREFIX.key (0600) for one node\n"
          "  revoke adds the certificate to D/index and rewrites D/crl.pem\n"
          "  crl    re-publishes D/crl.pem (do it before the old one expires)\n"
          "  show   prints a certificate's identity, serial and validity\n"
          "  enrol  writes one enrolment bundle (DIR/<unit>-<role>.sanji) and its passphrase\n"
          "         slip (.slip.txt) per node: every village of --township, or --unit;\n"
          "         --address is its relay's (the county's for a county desk or a relay);\n"
          "         stations import it with 'sanji setup' or sanji-desk, a relay with\n"
          "         'sanji-relayctl setup'; --host names a relay's addresses\n",
          f);
}

/* "sanji-pki: " and the message on stderr; the caller ends the line. */
static void vsay(const char *fmt, va_list ap)
{
    fputs(PROG ": ", stderr);
    vfprintf(stderr, fmt, ap);
}

void pki_die_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    fputs("\n(" PROG " --help 查看用法 / shows usage)\n", stderr);
    exit(2);
}

/* Prints the message and the OpenSSL error queue (if any) to stderr. */
void pki_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsay(fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
        fprintf(stderr, "  openssl: %s\n", buf);
    }
}

static long long parse_num(const char *opt, const char *s, long long min, long long max)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        pki_die_usage("%s 的值 \"%s\" 无效 (must be an integer from %lld to %lld)", opt, s, min,
                      max);
    return v;
}

static void parse_opts(int argc, char **argv, pki_opts *o)
{
    static const struct option longopts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"county", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, 'n'},
        {"days", required_argument, NULL, 'D'},
        {"minutes", required_argument, NULL, 'M'},
        {"role", required_argument, NULL, 'r'},
        {"unit", required_argument, NULL, 'u'},
        {"host", required_argument, NULL, 'H'},
        {"not-before", required_argument, NULL, 'b'},
        {"not-after", required_argument, NULL, 'a'},
        {"out", required_argument, NULL, 'o'},
        {"cert", required_argument, NULL, 'C'},
        {"orgunits", required_argument, NULL, 'O'},
        {"township", required_argument, NULL, 'T'},
        {"address", required_argument, NULL, 'A'},
        {"relay-address", required_argument, NULL, 'A'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof *o);
    opterr = 0;
    optind = 2; /* argv[1] is the command */
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->dir = optarg; break;
        case 'c': o->county = optarg; break;
        case 'n': o->name = optarg; break;
        case 'D':
            o->days = (long)parse_num("--days", optarg, 1, 36500);
            o->have_days = true;
            break;
        case 'M':
            o->minutes = (long)parse_num("--minutes", optarg, 1, 527040);
            o->have_minutes = true;
            break;
        case 'r': o->role = optarg; break;
        case 'u': o->unit = optarg; break;
        case 'H': o->hosts = optarg; break;
        case 'b':
            o->not_before = parse_num("--not-before", optarg, 0, 253402300799LL);
            o->have_nb = true;
            break;
        case 'a':
            o->not_after = parse_num("--not-after", optarg, 0, 253402300799LL);
            o->have_na = true;
            break;
        case 'o': o->out = optarg; break;
        case 'C': o->cert = optarg; break;
        case 'O': o->orgunits = optarg; break;
        case 'T': o->township = optarg; break;
        case 'A': o->address = optarg; break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            pki_die_usage("未知或不完整的选项 \"%s\" (unknown option or missing value)",
                          argv[optind - 1]);
        }
    }
    if (optind < argc)
        pki_die_usage("多余的参数 \"%s\" (unexpected argument)", argv[optind]);
}

void pki_need(const char *v, const char *opt, const char *cmd)
{
    if (v == NULL)
        pki_die_usage("%s 需要 %s (%s requires %s)", cmd, opt, cmd, opt);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    pki_opts o;
    parse_opts(argc, argv, &o);
    if (strcmp(cmd, "init") == 0)
        return pki_cmd_init(&o);
    if (strcmp(cmd, "issue") == 0)
        return pki_cmd_issue(&o);
    if (strcmp(cmd, "revoke") == 0)
        return pki_cmd_revoke(&o);
    if (strcmp(cmd, "crl") == 0)
        return pki_cmd_crl(&o);
    if (strcmp(cmd, "show") == 0)
        return pki_cmd_show(&o);
    if (strcmp(cmd, "enrol") == 0)
        return pki_cmd_enrol(&o);
    pki_die_usage("未知命令 \"%s\" (unknown command; use init, issue, revoke, crl, show or enrol)",
                  cmd);
}
