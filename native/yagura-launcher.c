// yagura-launcher: the agent's task launcher in C (the same protocol as LAUNCHER_SOURCE in
// server/agent/executor.ts, which the agent runs with node where this binary is not built).
//
// Reads JSON lines on stdin, answers JSON lines on stdout:
//   {op:'spawn', id, args, cwd, env, uid?, gid?, makeDirs?, stdout, stderr, cgroups?}
//     → {ev:'spawned', id, pid, startTime} (in its cgroups, blocked on fd 3) | {ev:'error', id, message}
//   {op:'release', id} writes the go-ahead on the wrapper's fd 3; {op:'abandon', id} closes it unwritten
//   … and later {ev:'exit', id, code, signal}.
// It says {ev:'ready'} once it runs and exits when its stdin ends.
//
// Why C: a fork from node copies the page tables of a ~14 MB process and write-protects its
// pages, which the launcher then faults on one by one after each fork; vfork() shares the
// launcher's memory with the child until the child's exec, so a spawn costs the exec and little
// else. One thread; one spawn per turn of the loop, the go-aheads and abandons read meanwhile
// carried out between two spawns. Every descriptor the launcher holds is close-on-exec: a
// wrapper must not inherit another wrapper's fd 3 (it would never see that one's end).
//
// Usage: yagura-launcher WRAPPER-SCRIPT. Build: scripts/build-launcher.sh (npm install runs it).
// Linux and glibc only.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/** The wrapper script (WRAPPER_SCRIPT in executor.ts): the launcher's one argument. */
static const char *WRAPPER;

// ---- small helpers -------------------------------------------------------------------------

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    fputs("yagura-launcher: out of memory\n", stderr);
    _exit(70);
  }
  return q;
}

typedef struct {
  char *s;
  size_t len, cap;
} Buf;

static void buf_add(Buf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    b->cap = (b->len + n + 1) * 2;
    b->s = xrealloc(b->s, b->cap);
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = 0;
}

static void buf_str(Buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_fmt(Buf *b, const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0) buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/** A JSON string literal of `s` (bytes as they are; control characters escaped). */
static void buf_json_str(Buf *b, const char *s) {
  buf_add(b, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') {
      char e[2] = {'\\', (char)*p};
      buf_add(b, e, 2);
    } else if (*p < 0x20) {
      buf_fmt(b, "\\u%04x", *p);
    } else {
      buf_add(b, (const char *)p, 1);
    }
  }
  buf_add(b, "\"", 1);
}

// ---- JSON (what JSON.stringify writes) -----------------------------------------------------

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct J {
  int type;
  double num;
  char *str;        // J_STR (NUL-terminated; `nul` set when it held a \u0000)
  int nul;
  struct J **items; // J_ARR and J_OBJ (values)
  char **keys;      // J_OBJ
  size_t n;
} J;

typedef struct {
  const char *p, *end;
  int err;
} Parser;

static void j_free(J *j) {
  if (!j) return;
  free(j->str);
  for (size_t i = 0; i < j->n; i++) {
    j_free(j->items[i]);
    if (j->keys) free(j->keys[i]);
  }
  free(j->items);
  free(j->keys);
  free(j);
}

static void ws(Parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' || *ps->p == '\n')) ps->p++;
}

static int hex4(Parser *ps, unsigned *out) {
  if (ps->end - ps->p < 4) return -1;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = ps->p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  ps->p += 4;
  *out = v;
  return 0;
}

static void utf8(Buf *b, unsigned cp) {
  char o[4];
  size_t n;
  if (cp < 0x80) o[0] = (char)cp, n = 1;
  else if (cp < 0x800) o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
  else if (cp < 0x10000) o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 0x3f)), o[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
  else o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 0x3f)), o[2] = (char)(0x80 | (cp >> 6 & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
  buf_add(b, o, n);
}

static char *parse_string(Parser *ps, int *nul) {
  Buf b = {0};
  buf_add(&b, "", 0);
  ps->p++; // the opening quote
  while (ps->p < ps->end && *ps->p != '"') {
    const char *run = ps->p;
    while (ps->p < ps->end && *ps->p != '"' && *ps->p != '\\') ps->p++;
    buf_add(&b, run, (size_t)(ps->p - run));
    if (ps->p >= ps->end || *ps->p == '"') break;
    ps->p++; // the backslash
    if (ps->p >= ps->end) break;
    char c = *ps->p++;
    switch (c) {
      case '"': buf_add(&b, "\"", 1); break;
      case '\\': buf_add(&b, "\\", 1); break;
      case '/': buf_add(&b, "/", 1); break;
      case 'b': buf_add(&b, "\b", 1); break;
      case 'f': buf_add(&b, "\f", 1); break;
      case 'n': buf_add(&b, "\n", 1); break;
      case 'r': buf_add(&b, "\r", 1); break;
      case 't': buf_add(&b, "\t", 1); break;
      case 'u': {
        unsigned cp;
        if (hex4(ps, &cp)) goto bad;
        if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u') {
          const char *save = ps->p;
          unsigned lo;
          ps->p += 2;
          if (!hex4(ps, &lo) && lo >= 0xdc00 && lo < 0xe000) cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          else ps->p = save;
        }
        if (cp == 0) *nul = 1;
        else utf8(&b, cp);
        break;
      }
      default: goto bad;
    }
  }
  if (ps->p >= ps->end) goto bad;
  ps->p++; // the closing quote
  return b.s;
bad:
  ps->err = 1;
  free(b.s);
  return NULL;
}

static J *parse_value(Parser *ps, int depth);

static J *j_new(int type) {
  J *j = calloc(1, sizeof *j);
  if (!j) xrealloc(NULL, (size_t)-1);
  j->type = type;
  return j;
}

static void j_push(J *j, J *v, char *key) {
  j->items = xrealloc(j->items, (j->n + 1) * sizeof *j->items);
  if (j->type == J_OBJ) {
    j->keys = xrealloc(j->keys, (j->n + 1) * sizeof *j->keys);
    j->keys[j->n] = key;
  }
  j->items[j->n++] = v;
}

static J *parse_value(Parser *ps, int depth) {
  ws(ps);
  if (ps->p >= ps->end || depth > 32) return ps->err = 1, NULL;
  char c = *ps->p;
  if (c == '"') {
    J *j = j_new(J_STR);
    j->str = parse_string(ps, &j->nul);
    if (!j->str) return j_free(j), NULL;
    return j;
  }
  if (c == '{' || c == '[') {
    J *j = j_new(c == '{' ? J_OBJ : J_ARR);
    char close = c == '{' ? '}' : ']';
    ps->p++;
    ws(ps);
    if (ps->p < ps->end && *ps->p == close) return ps->p++, j;
    for (;;) {
      char *key = NULL;
      if (j->type == J_OBJ) {
        ws(ps);
        int nul = 0;
        if (ps->p >= ps->end || *ps->p != '"' || !(key = parse_string(ps, &nul))) return ps->err = 1, j_free(j), NULL;
        ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') return ps->err = 1, free(key), j_free(j), NULL;
        ps->p++;
      }
      J *v = parse_value(ps, depth + 1);
      if (!v) return free(key), j_free(j), NULL;
      j_push(j, v, key);
      ws(ps);
      if (ps->p < ps->end && *ps->p == ',') {
        ps->p++;
        continue;
      }
      if (ps->p < ps->end && *ps->p == close) return ps->p++, j;
      return ps->err = 1, j_free(j), NULL;
    }
  }
  if (ps->end - ps->p >= 4 && !strncmp(ps->p, "true", 4)) {
    ps->p += 4;
    J *j = j_new(J_BOOL);
    j->num = 1;
    return j;
  }
  if (ps->end - ps->p >= 5 && !strncmp(ps->p, "false", 5)) return ps->p += 5, j_new(J_BOOL);
  if (ps->end - ps->p >= 4 && !strncmp(ps->p, "null", 4)) return ps->p += 4, j_new(J_NULL);
  char *e;
  double d = strtod(ps->p, &e);
  if (e == ps->p || e > ps->end) return ps->err = 1, NULL;
  ps->p = e;
  J *j = j_new(J_NUM);
  j->num = d;
  return j;
}

static J *get(const J *o, const char *key) {
  if (!o || o->type != J_OBJ) return NULL;
  for (size_t i = 0; i < o->n; i++)
    if (!strcmp(o->keys[i], key)) return o->items[i];
  return NULL;
}

static const char *get_str(const J *o, const char *key) {
  J *v = get(o, key);
  return v && v->type == J_STR && !v->nul ? v->str : NULL;
}

static int get_num(const J *o, const char *key, double *out) {
  J *v = get(o, key);
  if (!v || v->type != J_NUM) return 0;
  *out = v->num;
  return 1;
}

// ---- replies -------------------------------------------------------------------------------

static Buf out;

static void reply_error(double id, const char *fmt, ...) {
  char msg[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  buf_fmt(&out, "{\"ev\":\"error\",\"id\":%.17g,\"message\":", id);
  buf_json_str(&out, msg);
  buf_str(&out, "}\n");
}

static void flush_out(void) {
  size_t off = 0;
  while (off < out.len) {
    ssize_t n = write(1, out.s + off, out.len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0); // the agent is gone
    off += (size_t)n;
  }
  out.len = 0;
}

/** The message of a failed system call, as node words it: "ENOENT: No such file or directory, open '/x'". */
static const char *sys_msg(int err, const char *call, const char *path) {
  static char m[6000];
  const char *name = strerrorname_np(err);
  snprintf(m, sizeof m, "%s: %s, %s '%s'", name ? name : "EUNKNOWN", strerror(err), call, path);
  return m;
}

// ---- the wrappers --------------------------------------------------------------------------

typedef struct {
  double id;
  pid_t pid;
  int go; // the write end of the wrapper's fd 3, -1 once released or abandoned
} Kid;

static Kid *kids;
static size_t nkids, capkids;

static Kid *kid_by_id(double id) {
  for (size_t i = 0; i < nkids; i++)
    if (kids[i].id == id) return &kids[i];
  return NULL;
}

static int devnull = -1;
static int sigpipe_fds[2] = {-1, -1};

/** `fd` moved to 10 or above (close-on-exec): the child's dup2 onto 0–3 then never overwrites a source. */
static int high(int fd) {
  if (fd < 0 || fd >= 10) return fd;
  int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  int e = errno;
  close(fd);
  errno = e;
  return h;
}

static int rm_entry(const char *p, const struct stat *st, int type, struct FTW *f) {
  (void)st, (void)f;
  return (type == FTW_DP ? rmdir(p) : unlink(p)) && errno != ENOENT ? -1 : 0;
}

/** A fresh directory: what a finished run of the same task id left there goes first. */
static const char *fresh_dir(const char *dir) {
  if (!mkdir(dir, 0700)) return NULL;
  if (errno != EEXIST) return sys_msg(errno, "mkdir", dir);
  if (nftw(dir, rm_entry, 32, FTW_DEPTH | FTW_PHYS) && errno != ENOENT) return sys_msg(errno, "rm", dir);
  if (mkdir(dir, 0700)) return sys_msg(errno, "mkdir", dir);
  return NULL;
}

/** mkdir -p */
static const char *mkdirs(const char *dir) {
  char p[PATH_MAX];
  size_t n = strlen(dir);
  if (n == 0 || n >= sizeof p) return sys_msg(ENAMETOOLONG, "mkdir", dir);
  memcpy(p, dir, n + 1);
  for (char *s = p + 1;; s++) {
    if (*s == '/' || *s == 0) {
      char c = *s;
      *s = 0;
      if (mkdir(p, 0777) && errno != EEXIST) return sys_msg(errno, "mkdir", p);
      *s = c;
      if (!c) break;
    }
  }
  return NULL;
}

static const char *write_file(const char *file, const char *v) {
  int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return sys_msg(errno, "open", file);
  size_t len = strlen(v), off = 0;
  while (off < len) {
    ssize_t n = write(fd, v + off, len - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return sys_msg(e, "write", file);
    }
    off += (size_t)n;
  }
  close(fd);
  return NULL;
}

/** Whether an optional limit file exists, by name: the same for every cgroup of the kernel. */
static struct {
  char *name;
  int exists;
} optional[32];
static int noptional;

static const char *make_cgroups(const J *cg) {
  J *dirs = get(cg, "mkdirs"), *writes = get(cg, "writes");
  for (size_t i = 0; dirs && dirs->type == J_ARR && i < dirs->n; i++) {
    if (dirs->items[i]->type != J_STR) return "a cgroup directory is not a string";
    const char *e = mkdirs(dirs->items[i]->str);
    if (e) return e;
  }
  for (size_t i = 0; writes && writes->type == J_ARR && i < writes->n; i++) {
    J *w = writes->items[i];
    if (w->type != J_ARR || w->n < 2 || w->items[0]->type != J_STR || w->items[1]->type != J_STR) return "a cgroup write is not [file, value]";
    const char *f = w->items[0]->str, *v = w->items[1]->str;
    if (w->n > 2 && w->items[2]->type == J_BOOL && w->items[2]->num) {
      const char *name = strrchr(f, '/') ? strrchr(f, '/') + 1 : f;
      int k;
      for (k = 0; k < noptional && strcmp(optional[k].name, name); k++)
        ;
      if (k == noptional && noptional < 32) {
        optional[k].name = strdup(name);
        optional[k].exists = access(f, F_OK) == 0;
        noptional++;
      }
      if (k < noptional ? !optional[k].exists : access(f, F_OK) != 0) continue;
    }
    const char *e = write_file(f, v);
    if (e) return e;
  }
  return NULL;
}

/** Field 22 of /proc/<pid>/stat (the start time), or -1. */
static long long start_time(pid_t pid) {
  char p[64], s[4096];
  snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, s, sizeof s - 1);
  close(fd);
  if (n <= 0) return -1;
  s[n] = 0;
  char *q = strrchr(s, ')');
  if (!q) return -1;
  q += 2;
  for (int field = 0; field < 19; field++) {
    q = strchr(q, ' ');
    if (!q) return -1;
    q++;
  }
  char *e;
  long long v = strtoll(q, &e, 10);
  return e == q ? -1 : v;
}

/** Opens a log file the agent made and checks it is still that file. */
static int open_log(const J *f, const char **err) {
  const char *path = get_str(f, "path"), *ino = get_str(f, "ino"), *dev = get_str(f, "dev");
  if (!path) return *err = "a log file has no path", -1;
  int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return *err = sys_msg(errno, "open", path), -1;
  struct stat st;
  char si[32], sd[32];
  if (fstat(fd, &st)) {
    int e = errno;
    close(fd);
    return *err = sys_msg(e, "fstat", path), -1;
  }
  snprintf(si, sizeof si, "%llu", (unsigned long long)st.st_ino);
  snprintf(sd, sizeof sd, "%llu", (unsigned long long)st.st_dev);
  if (!S_ISREG(st.st_mode) || !ino || !dev || strcmp(si, ino) || strcmp(sd, dev)) {
    close(fd);
    static char m[5000];
    snprintf(m, sizeof m, "%s was replaced before the task started", path);
    return *err = m, -1;
  }
  return fd;
}

static const char *make_dirs(const J *m, const char *meta, const char *cwd, int has_uid, uid_t uid, int has_gid, gid_t gid, int fds[2]) {
  const char *e = fresh_dir(meta);
  if (e) return e;
  if (has_gid) {
    if (chown(meta, getuid(), gid)) return sys_msg(errno, "chown", meta);
    if (chmod(meta, 01770)) return sys_msg(errno, "chmod", meta);
  }
  if ((e = fresh_dir(cwd))) return e;
  const char *paths[2] = {get_str(get(m, "stdout"), "path"), get_str(get(m, "stderr"), "path")};
  for (int i = 0; i < 2; i++) {
    if (!paths[i]) return "a log file has no path";
    fds[i] = open(paths[i], O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fds[i] < 0) return sys_msg(errno, "open", paths[i]);
  }
  if (has_uid) {
    const char *own[3] = {cwd, paths[0], paths[1]};
    for (int i = 0; i < 3; i++)
      if (lchown(own[i], uid, has_gid ? gid : (gid_t)-1)) return sys_msg(errno, "lchown", own[i]);
    if (chmod(cwd, 0750)) return sys_msg(errno, "chmod", cwd);
  }
  return NULL;
}

/** What the vfork child failed at (it shares the launcher's memory until its exec). */
static volatile int child_errno;
static volatile int child_step;
static const char *const STEPS[] = {"exec", "setsid", "dup2", "chdir", "setgid", "setuid"};

struct child {
  char **argv, **envp;
  const char *cwd;
  int out, err, go;
  int has_uid, has_gid;
  uid_t uid;
  gid_t gid;
  const sigset_t *mask;
};

/**
 * vfork and exec the wrapper: the child runs in the launcher's memory until its exec, making
 * only system calls; what it failed at is left in child_errno and child_step. All signals are
 * blocked meanwhile (c->mask: the mask to restore in the child before its exec).
 */
static __attribute__((noinline)) pid_t start_child(const struct child *c) {
  child_errno = 0;
  child_step = 0;
  pid_t pid = vfork();
  if (pid != 0) return pid;
  int step = 1;
  if (setsid() < 0) goto fail;
  step = 2;
  if (dup2(devnull, 0) < 0 || dup2(c->out, 1) < 0 || dup2(c->err, 2) < 0 || dup2(c->go, 3) < 0) goto fail;
  step = 3;
  if (chdir(c->cwd)) goto fail;
  if (c->has_uid || c->has_gid) (void)!setgroups(0, NULL);
  step = 4;
  if (c->has_gid && setgid(c->gid)) goto fail;
  step = 5;
  if (c->has_uid && setuid(c->uid)) goto fail;
  sigprocmask(SIG_SETMASK, c->mask, NULL);
  step = 0;
  execve("/bin/sh", c->argv, c->envp);
fail:
  child_errno = errno;
  child_step = step;
  _exit(127);
}

static void on_signal(int sig) {
  if (sig == SIGCHLD && sigpipe_fds[1] >= 0) {
    int e = errno;
    (void)!write(sigpipe_fds[1], "c", 1);
    errno = e;
  }
}

static void spawn_one(J *m) {
  double id = 0;
  get_num(m, "id", &id);
  const char *cwd = get_str(m, "cwd");
  J *args = get(m, "args"), *env = get(m, "env"), *make = get(m, "makeDirs"), *cg = get(m, "cgroups");
  double duid = 0, dgid = 0;
  int has_uid = get_num(m, "uid", &duid), has_gid = get_num(m, "gid", &dgid);
  uid_t uid = (uid_t)duid;
  gid_t gid = (gid_t)dgid;
  if (!cwd || !args || args->type != J_ARR || !env || env->type != J_OBJ) return reply_error(id, "a spawn needs cwd, args and env");

  // argv: /bin/sh -c WRAPPER args…; envp: K=V
  char **argv = xrealloc(NULL, (args->n + 4) * sizeof *argv);
  char **envp = xrealloc(NULL, (env->n + 1) * sizeof *envp);
  size_t nenv = 0;
  int fds[2] = {-1, -1}, pipefd[2] = {-1, -1};
  const char *err = NULL;
  argv[0] = "/bin/sh";
  argv[1] = "-c";
  argv[2] = (char *)WRAPPER;
  for (size_t i = 0; i < args->n; i++) {
    J *a = args->items[i];
    if (a->type != J_STR || a->nul) {
      err = "an argument is not a string without NUL bytes";
      goto done;
    }
    argv[3 + i] = a->str;
  }
  argv[3 + args->n] = NULL;
  for (size_t i = 0; i < env->n; i++) {
    J *v = env->items[i];
    if (v->type != J_STR || v->nul || strchr(env->keys[i], '=')) continue;
    size_t kl = strlen(env->keys[i]), vl = strlen(v->str);
    char *kv = xrealloc(NULL, kl + vl + 2);
    memcpy(kv, env->keys[i], kl);
    kv[kl] = '=';
    memcpy(kv + kl + 1, v->str, vl + 1);
    envp[nenv++] = kv;
  }
  envp[nenv] = NULL;

  if (make) {
    const char *meta = get_str(make, "meta");
    err = meta ? make_dirs(m, meta, cwd, has_uid, uid, has_gid, gid, fds) : "makeDirs has no meta";
  } else if ((fds[0] = open_log(get(m, "stdout"), &err)) >= 0) {
    fds[1] = open_log(get(m, "stderr"), &err);
  }
  if (err) goto done;
  if (cg && (err = make_cgroups(cg))) {
    static char m2[8192];
    snprintf(m2, sizeof m2, "cgroups: %s", err);
    err = m2;
    goto done;
  }
  if (pipe2(pipefd, O_CLOEXEC)) {
    err = sys_msg(errno, "pipe", "fd 3");
    goto done;
  }
  fds[0] = high(fds[0]);
  fds[1] = high(fds[1]);
  pipefd[0] = high(pipefd[0]);
  if (fds[0] < 0 || fds[1] < 0 || pipefd[0] < 0) {
    err = sys_msg(errno, "fcntl", "F_DUPFD");
    goto done;
  }

  struct child c = {.argv = argv, .envp = envp, .cwd = cwd, .out = fds[0], .err = fds[1], .go = pipefd[0], .has_uid = has_uid, .has_gid = has_gid, .uid = uid, .gid = gid};
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, &old);
  c.mask = &old;
  pid_t pid = start_child(&c);
  int vfork_errno = errno;
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (pid < 0) {
    err = sys_msg(vfork_errno, "vfork", "/bin/sh");
    goto done;
  }
  if (child_errno) {
    // it never ran the wrapper: reap it here (its SIGCHLD finds no one)
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
      ;
    static char m3[256];
    const char *name = strerrorname_np(child_errno);
    if (child_step == 0) snprintf(m3, sizeof m3, "spawn /bin/sh %s", name ? name : "EUNKNOWN");
    else snprintf(m3, sizeof m3, "spawn /bin/sh %s (%s)", name ? name : "EUNKNOWN", STEPS[child_step]);
    err = m3;
    goto done;
  }
  close(pipefd[0]);
  pipefd[0] = -1;
  // into its cgroups before it is released
  J *procs = cg ? get(cg, "procs") : NULL;
  for (size_t i = 0; procs && procs->type == J_ARR && i < procs->n; i++) {
    char v[32];
    snprintf(v, sizeof v, "%d", (int)pid);
    const char *e = procs->items[i]->type == J_STR ? write_file(procs->items[i]->str, v) : "a cgroup.procs file is not a string";
    if (e) {
      // never released: it dies without having run anything
      static char m4[8192];
      snprintf(m4, sizeof m4, "cgroups: %s", e);
      err = m4;
      close(pipefd[1]);
      pipefd[1] = -1;
      kill(-pid, SIGKILL);
      goto done;
    }
  }
  if (nkids == capkids) {
    capkids = capkids ? capkids * 2 : 64;
    kids = xrealloc(kids, capkids * sizeof *kids);
  }
  kids[nkids++] = (Kid){.id = id, .pid = pid, .go = pipefd[1]};
  pipefd[1] = -1;
  long long st = start_time(pid);
  if (st < 0) buf_fmt(&out, "{\"ev\":\"spawned\",\"id\":%.17g,\"pid\":%d,\"startTime\":null}\n", id, (int)pid);
  else buf_fmt(&out, "{\"ev\":\"spawned\",\"id\":%.17g,\"pid\":%d,\"startTime\":%lld}\n", id, (int)pid, st);

done:
  if (err) reply_error(id, "%s", err);
  for (int i = 0; i < 2; i++) {
    if (fds[i] >= 0) close(fds[i]);
    if (pipefd[i] >= 0) close(pipefd[i]);
  }
  for (size_t i = 0; i < nenv; i++) free(envp[i]);
  free(envp);
  free(argv);
}

static const char *signal_name(int sig) {
  static char s[32];
  const char *a = sigabbrev_np(sig);
  if (a) snprintf(s, sizeof s, "SIG%s", a);
  else snprintf(s, sizeof s, "SIG%d", sig);
  return s;
}

static void reap(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (size_t i = 0; i < nkids; i++) {
      if (kids[i].pid != pid) continue;
      if (kids[i].go >= 0) close(kids[i].go);
      if (WIFSIGNALED(status)) buf_fmt(&out, "{\"ev\":\"exit\",\"id\":%.17g,\"code\":null,\"signal\":\"%s\"}\n", kids[i].id, signal_name(WTERMSIG(status)));
      else buf_fmt(&out, "{\"ev\":\"exit\",\"id\":%.17g,\"code\":%d,\"signal\":null}\n", kids[i].id, WEXITSTATUS(status));
      kids[i] = kids[--nkids];
      break;
    }
  }
}

// the spawns not yet made, one per turn
static J **queue;
static size_t qhead, qlen, qcap;

static void on_line(const char *line, size_t len) {
  Parser ps = {line, line + len, 0};
  J *m = parse_value(&ps, 0);
  if (!m || ps.err) return j_free(m);
  const char *op = get_str(m, "op");
  double id;
  if (!op || !get_num(m, "id", &id)) return j_free(m);
  if (!strcmp(op, "spawn")) {
    if (qlen == qcap) {
      qcap = qcap ? qcap * 2 : 64;
      queue = xrealloc(queue, qcap * sizeof *queue);
    }
    queue[qlen++] = m;
    return;
  }
  Kid *k = kid_by_id(id);
  if (k && k->go >= 0) {
    if (!strcmp(op, "release")) {
      (void)!write(k->go, "go\n", 3);
      close(k->go);
      k->go = -1;
    } else if (!strcmp(op, "abandon")) {
      close(k->go);
      k->go = -1;
    }
  }
  j_free(m);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fputs("usage: yagura-launcher WRAPPER-SCRIPT (the agent starts it)\n", stderr);
    return 64;
  }
  WRAPPER = argv[1];
  prctl(PR_SET_NAME, "yagura-launcher");
  // handlers, not SIG_IGN: an ignored signal would stay ignored in the wrappers
  struct sigaction sa = {0};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD};
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaction(sigs[i], &sa, NULL);
  if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK)) return 71;
  devnull = high(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (devnull < 0) return 72;
  fcntl(0, F_SETFD, FD_CLOEXEC);
  fcntl(1, F_SETFD, FD_CLOEXEC);

  buf_str(&out, "{\"ev\":\"ready\"}\n");
  flush_out();
  Buf in = {0};
  size_t scanned = 0;
  int eof = 0;
  for (;;) {
    struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = sigpipe_fds[0], .events = POLLIN}};
    int n = poll(p, 2, qhead < qlen ? 0 : -1);
    if (n < 0 && errno != EINTR) return 73;
    if (n > 0 && p[1].revents) {
      char drain[64];
      while (read(sigpipe_fds[0], drain, sizeof drain) > 0)
        ;
      reap();
    }
    if (n > 0 && p[0].revents) {
      char chunk[65536];
      ssize_t r = read(0, chunk, sizeof chunk);
      if (r > 0) buf_add(&in, chunk, (size_t)r);
      else if (r == 0 || errno != EINTR) eof = 1;
      size_t start = 0;
      for (size_t i = scanned; i < in.len; i++) {
        if (in.s[i] != '\n') continue;
        on_line(in.s + start, i - start);
        start = i + 1;
      }
      if (start > 0) {
        memmove(in.s, in.s + start, in.len - start);
        in.len -= start;
      }
      scanned = in.len;
    }
    if (eof) {
      flush_out();
      free(in.s);
      return 0; // the agent stopped or died: the wrappers not yet released see their fd 3 end
    }
    if (qhead < qlen) {
      J *m = queue[qhead++];
      spawn_one(m);
      j_free(m);
      if (qhead == qlen) qhead = qlen = 0;
    }
    flush_out();
  }
}
