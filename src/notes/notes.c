/* Signing notes in git: read with a size cap, append with
 * compare-and-swap and retry (DESIGN.md section 7: git_note_create does
 * not compare-and-swap and loses notes under concurrency). */
#include "notes/notes.h"
#include "core/error.h"
#include "core/file.h"
#include "core/git.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SG_NOTES_PREFIX "refs/notes/"
#define SG_NOTES_RETRIES 200 /* (7/8)^200: a writer among 8 is not starved */

int sg_notes_ref_check(const char *notes_ref)
{
	int valid = 0;

	if (!notes_ref || strncmp(notes_ref, SG_NOTES_PREFIX, strlen(SG_NOTES_PREFIX)) != 0 ||
	    !notes_ref[strlen(SG_NOTES_PREFIX)] || git_reference_name_is_valid(&valid, notes_ref) < 0 || !valid)
		return sg_error_set(SG_ERROR, "notes ref '%.200s' is not a valid reference name under %s; "
				    "use e.g. refs/notes/signatures", notes_ref ? notes_ref : "(null)",
				    SG_NOTES_PREFIX);
	return SG_OK;
}

/* Find the note blob for `hex` (the annotated object's id) in a notes
 * tree, following git's fan-out subtrees ("ab/cdef..."); its path in the
 * tree is appended to `path` (may be NULL; room for 2 * GIT_OID_HEXSZ + 1
 * bytes). 1 found, 0 not, < 0 error. */
int sg_notes_find_blob(git_oid *out, char *path, git_repository *repo, const git_tree *tree,
		       const char *hex)
{
	const git_tree_entry *te;
	git_tree *sub = NULL;
	char dir[3];
	int r;

	te = git_tree_entry_byname(tree, hex);
	if (te && git_tree_entry_type(te) == GIT_OBJECT_BLOB) {
		git_oid_cpy(out, git_tree_entry_id(te));
		if (path)
			strcat(path, hex);
		return 1;
	}
	if (strlen(hex) <= 2)
		return 0;
	dir[0] = hex[0];
	dir[1] = hex[1];
	dir[2] = '\0';
	te = git_tree_entry_byname(tree, dir);
	if (!te || git_tree_entry_type(te) != GIT_OBJECT_TREE)
		return 0;
	if (git_tree_lookup(&sub, repo, git_tree_entry_id(te)) < 0)
		return sg_git_fail(SG_ERROR, "cannot read a notes tree");
	if (path) {
		strcat(path, dir);
		strcat(path, "/");
	}
	r = sg_notes_find_blob(out, path, repo, sub, hex + 2);
	git_tree_free(sub);
	return r;
}

int sg_notes_blob_size(size_t *size, git_repository *repo, const git_oid *id)
{
	git_odb *odb = NULL;
	git_object_t type;
	char hex[GIT_OID_HEXSZ + 1];
	int ret = SG_OK;

	if (git_repository_odb(&odb, repo) < 0 || git_odb_read_header(size, &type, odb, id) < 0)
		ret = sg_git_fail(SG_ERROR, "cannot read a note");
	else if (type != GIT_OBJECT_BLOB)
		ret = sg_error_set(SG_ERROR, "note object %s is not a blob",
				   git_oid_tostr(hex, sizeof(hex), id));
	git_odb_free(odb);
	return ret;
}

int sg_notes_read_blob(sg_buf *out, git_repository *repo, const git_oid *id, size_t max)
{
	git_blob *blob = NULL;
	size_t size;
	char hex[GIT_OID_HEXSZ + 1];
	int ret = SG_ERROR;

	git_oid_tostr(hex, sizeof(hex), id);
	if ((ret = sg_notes_blob_size(&size, repo, id)) < 0)
		goto done;
	ret = SG_ERROR;
	if (size > max) {
		ret = sg_error_set(SG_ERROR, "note blob %s is %zu bytes; the limit is %zu bytes", hex, size, max);
		goto done;
	}
	if (git_blob_lookup(&blob, repo, id) < 0) {
		ret = sg_git_fail(SG_ERROR, "cannot read a note");
		goto done;
	}
	if ((size_t)git_blob_rawsize(blob) != size) {
		ret = sg_error_set(SG_ERROR, "note blob %s changed size while read", hex);
		goto done;
	}
	if ((ret = sg_buf_put(out, git_blob_rawcontent(blob), size)) < 0)
		goto done;
	ret = SG_OK;
done:
	git_blob_free(blob);
	return ret;
}

/* The note on `commit` in `notes_commit` into out; SG_ENOTFOUND when none. */
static int read_note_at(sg_buf *out, git_repository *repo, git_commit *notes_commit,
			const git_oid *commit, size_t max)
{
	git_tree *tree = NULL;
	git_oid blob;
	char hex[GIT_OID_HEXSZ + 1];
	int ret, r;

	git_oid_tostr(hex, sizeof(hex), commit);
	if (git_commit_tree(&tree, notes_commit) < 0) {
		ret = sg_git_fail(SG_ERROR, "cannot read the notes tree");
		goto done;
	}
	if ((r = sg_notes_find_blob(&blob, NULL, repo, tree, hex)) < 0) {
		ret = r;
		goto done;
	}
	if (r == 0) {
		ret = sg_error_set(SG_ENOTFOUND, "no note on %s", hex);
		goto done;
	}
	ret = sg_notes_read_blob(out, repo, &blob, max);
done:
	git_tree_free(tree);
	return ret;
}

/* The notes commit the ref points to; *out NULL when the ref does not exist. */
static int lookup_notes_commit(git_commit **out, git_oid *id, git_repository *repo, const char *notes_ref)
{
	git_reference *ref = NULL;
	git_commit *c = NULL;
	int ret, r;

	*out = NULL;
	r = git_reference_lookup(&ref, repo, notes_ref);
	if (r == GIT_ENOTFOUND)
		return SG_OK;
	if (r < 0)
		return sg_git_fail(SG_ERROR, notes_ref);
	if (git_reference_type(ref) != GIT_REFERENCE_DIRECT) {
		ret = sg_error_set(SG_ERROR, "notes ref %s is a symbolic reference; point it at a notes commit",
				   notes_ref);
		goto done;
	}
	git_oid_cpy(id, git_reference_target(ref));
	if (git_commit_lookup(&c, repo, id) < 0) {
		ret = sg_git_fail(SG_ERROR, "notes ref does not point at a commit");
		goto done;
	}
	*out = c;
	ret = SG_OK;
done:
	git_reference_free(ref);
	return ret;
}

int sg_notes_read(sg_buf *out, git_repository *repo, const char *notes_ref,
		  const git_oid *commit, size_t max)
{
	git_commit *nc = NULL;
	git_oid id;
	sg_buf tmp = SG_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	int ret;

	if ((ret = sg_notes_ref_check(notes_ref)) < 0)
		return ret;
	if ((ret = lookup_notes_commit(&nc, &id, repo, notes_ref)) < 0)
		goto done;
	if (!nc) {
		git_oid_tostr(hex, sizeof(hex), commit);
		ret = sg_error_set(SG_ENOTFOUND, "no note on %s (%s does not exist)", hex, notes_ref);
		goto done;
	}
	if ((ret = read_note_at(&tmp, repo, nc, commit, max)) < 0)
		goto done;
	sg_buf_clear(out);
	if ((ret = sg_buf_put(out, tmp.ptr ? tmp.ptr : "", tmp.size)) < 0)
		goto done;
	ret = SG_OK;
done:
	sg_buf_dispose(&tmp);
	git_commit_free(nc);
	return ret;
}

/* --- append with compare-and-swap ---------------------------------------- */

static int default_signature(git_signature **out, git_repository *repo)
{
	if (git_signature_default(out, repo) == 0)
		return SG_OK;
	if (git_signature_now(out, "signgate", "signgate@localhost") == 0)
		return SG_OK;
	return sg_git_fail(SG_ERROR, "cannot make a signature for the notes commit");
}

static void backoff(void)
{
	unsigned int r = 0;
	struct timespec ts;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = (unsigned int)getpid() ^ (unsigned int)clock();
	ts.tv_sec = 0;
	ts.tv_nsec = (long)(1 + r % 20) * 1000000L;
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int is_race(int gerr)
{
	return gerr == GIT_EMODIFIED || gerr == GIT_ELOCKED || gerr == GIT_EEXISTS || gerr == GIT_ENOTFOUND;
}

const char *sg_notes_paragraph_break(const char *text, size_t len)
{
	size_t newlines = 0;

	while (len && strchr(" \t\r\n\f\v", text[len - 1]) && text[len - 1]) {
		newlines += text[len - 1] == '\n';
		len--;
	}
	if (!len)
		return "";
	return newlines >= 2 ? "" : newlines == 1 ? "\n" : "\n\n";
}

/* The notes tree of `parent` with `text` as the note on `commit`.
 * git_note_commit_create takes a C string (it writes libgit2's fixed
 * message; we keep its tree, which handles fan-out, and commit it again
 * with ours). A text holding a NUL byte -- only ever an old note's, kept
 * as it was -- is written as a blob and put at the old note's path. */
static int notes_tree(git_tree **out, git_repository *repo, git_commit *parent,
		      const git_signature *sig, const git_oid *commit, const sg_buf *text)
{
	git_commit *tmp = NULL;
	git_tree *base = NULL;
	git_oid id, blob;
	char path[2 * GIT_OID_HEXSZ + 1] = "", hex[GIT_OID_HEXSZ + 1];
	git_tree_update up;
	int ret = SG_ERROR;

	if (!memchr(text->ptr, '\0', text->size)) {
		if (git_note_commit_create(&id, NULL, repo, parent, sig, sig, commit, text->ptr, 1) < 0 ||
		    git_commit_lookup(&tmp, repo, &id) < 0 || git_commit_tree(out, tmp) < 0)
			ret = sg_git_fail(SG_ERROR, "cannot write the notes commit");
		else
			ret = SG_OK;
		goto done;
	}
	git_oid_tostr(hex, sizeof(hex), commit);
	if (!parent || git_commit_tree(&base, parent) < 0 ||
	    sg_notes_find_blob(&blob, path, repo, base, hex) <= 0) {
		ret = sg_error_set(SG_ERROR, "cannot find the note on %s to append to", hex);
		goto done;
	}
	memset(&up, 0, sizeof(up));
	up.action = GIT_TREE_UPDATE_UPSERT;
	up.filemode = GIT_FILEMODE_BLOB;
	up.path = path;
	if (git_blob_create_from_buffer(&up.id, repo, text->ptr, text->size) < 0 ||
	    git_tree_create_updated(&id, repo, base, 1, &up) < 0 || git_tree_lookup(out, repo, &id) < 0)
		ret = sg_git_fail(SG_ERROR, "cannot write the notes tree");
	else
		ret = SG_OK;
done:
	git_tree_free(base);
	git_commit_free(tmp);
	return ret;
}

static int objects_dir(sg_buf *out, git_repository *repo)
{
	return sg_buf_printf(out, "%sobjects", git_repository_commondir(repo));
}

int sg_notes_objects_fs(dev_t *dev, git_repository *repo)
{
	sg_buf dir = SG_BUF_INIT;
	struct stat st;
	int ret;

	if ((ret = objects_dir(&dir, repo)) == SG_OK && stat(dir.ptr, &st) < 0)
		ret = sg_error_set(SG_ERROR, "cannot stat %s: %s", dir.ptr, strerror(errno));
	if (ret == SG_OK && dev)
		*dev = st.st_dev;
	sg_buf_dispose(&dir);
	return ret;
}

int sg_notes_sync_objects(git_repository *repo)
{
	sg_buf dir = SG_BUF_INIT;
	int ret;

	if ((ret = objects_dir(&dir, repo)) == SG_OK)
		ret = sg_file_sync_fs(dir.ptr);
	sg_buf_dispose(&dir);
	return ret;
}

/* After the ref moved: its loose file and folder on disk (libgit2 writes
 * a loose ref, lock + rename, without fsync). */
static int sync_ref(git_repository *repo, const char *notes_ref)
{
	sg_buf path = SG_BUF_INIT;
	int ret;

	if ((ret = sg_buf_printf(&path, "%s%s", git_repository_commondir(repo), notes_ref)) == SG_OK)
		ret = sg_file_sync_path(path.ptr);
	sg_buf_dispose(&path);
	return ret;
}

/* One attempt: read the ref and the note, write old + add as a new notes
 * commit (the old text kept byte for byte, whatever it holds -- a NUL
 * byte, binary text -- followed by the blank line that makes `add` a
 * paragraph of its own, so the old note stays a prefix of the new one and
 * nothing written can join the paragraph before it), move the ref only if
 * it still points where we read it.
 * SG_ERETRY when another writer won the race. */
static int append_once(git_repository *repo, const char *notes_ref, const git_oid *commit,
		       const char *add, size_t addlen, const git_signature *sig,
		       const char *message, const char *logmsg)
{
	git_commit *parent = NULL;
	git_tree *tree = NULL;
	git_reference *newref = NULL;
	git_oid old_id, new_id;
	sg_buf text = SG_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1];
	int ret, r;

	git_oid_tostr(hex, sizeof(hex), commit);
	if ((ret = lookup_notes_commit(&parent, &old_id, repo, notes_ref)) < 0)
		goto done;
	if (parent) {
		r = read_note_at(&text, repo, parent, commit, SG_NOTES_MAX);
		if (r < 0 && r != SG_ENOTFOUND) {
			ret = r;
			goto done;
		}
	}
	if ((ret = sg_buf_puts(&text, sg_notes_paragraph_break(text.ptr, text.size))) < 0)
		goto done;
	if (text.size + addlen > SG_NOTES_MAX) {
		ret = sg_error_set(SG_ERROR, "the note on %s would exceed %d bytes; record under another notes ref",
				   hex, SG_NOTES_MAX);
		goto done;
	}
	if ((ret = sg_buf_put(&text, add, addlen)) < 0)
		goto done;

	if ((ret = notes_tree(&tree, repo, parent, sig, commit, &text)) < 0)
		goto done;
	if (git_commit_create(&new_id, repo, NULL, sig, sig, NULL, message, tree, parent ? 1 : 0,
			      (const git_commit **)&parent) < 0) {
		ret = sg_git_fail(SG_ERROR, "cannot write the notes commit");
		goto done;
	}
	/* Crash safety: libgit2 does not fsync (GIT_OPT_ENABLE_FSYNC_GITDIR is
	 * off), and on a file system without a journal nothing orders the
	 * writes. The objects (and whatever the caller wrote before, e.g. the
	 * batch's temp signatures) go to disk before the ref can name them;
	 * the ref goes to disk before we return, so the caller's renames that
	 * publish signatures come after their record is durable. */
	if ((ret = sg_notes_sync_objects(repo)) < 0)
		goto done;
	/* Compare-and-swap under the ref's lock. For a ref that does not exist
	 * yet the expected old id is all zeros: libgit2 then creates it only if
	 * it is still absent. (git_reference_create with force=0 checks
	 * existence before taking the lock, so two first writers could both
	 * succeed and one batch would be lost.) */
	if (!parent)
		memset(&old_id, 0, sizeof(old_id));
	r = git_reference_create_matching(&newref, repo, notes_ref, &new_id, 1, &old_id, logmsg);
	if (r < 0) {
		ret = is_race(r) ? sg_error_set(SG_ERETRY, "%s moved while recording the note on %s", notes_ref, hex)
				 : sg_git_fail(SG_ERROR, notes_ref);
		goto done;
	}
	ret = sync_ref(repo, notes_ref);
done:
	git_reference_free(newref);
	git_tree_free(tree);
	git_commit_free(parent);
	sg_buf_dispose(&text);
	return ret;
}

/* After SG_NOTES_RETRIES lost races: a lock file still there is most
 * likely left by a killed writer, and git's advice applies. */
static int gave_up(git_repository *repo, const char *notes_ref, const char *hex)
{
	sg_buf lock = SG_BUF_INIT;
	struct stat st;
	int ret;

	if (sg_buf_printf(&lock, "%s%s.lock", git_repository_commondir(repo), notes_ref) == SG_OK &&
	    lstat(lock.ptr, &st) == 0)
		ret = sg_error_set(SG_ERROR, "cannot lock %s: '%s' exists; another git or signgate process seems "
				   "to be writing it. If none is running, remove that file and run again; nothing "
				   "was recorded on %s", notes_ref, lock.ptr, hex);
	else
		ret = sg_error_set(SG_ERROR, "%s kept moving: gave up recording the note on %s after %d attempts; "
				   "nothing was recorded, run again", notes_ref, hex, SG_NOTES_RETRIES);
	sg_buf_dispose(&lock);
	return ret;
}

/* Append `add` (paragraphs ending with one newline) to the note. */
static int append_paragraphs(git_repository *repo, const char *notes_ref, const git_oid *commit,
			     const char *add, size_t addlen, const char *message, const char *what)
{
	git_signature *sig = NULL;
	git_object *obj = NULL;
	sg_buf msg = SG_BUF_INIT, logmsg = SG_BUF_INIT;
	char hex[GIT_OID_HEXSZ + 1], shorthex[13];
	const char *nl;
	int ret, attempt;

	if ((ret = sg_notes_ref_check(notes_ref)) < 0)
		return ret;
	git_oid_tostr(hex, sizeof(hex), commit);
	git_oid_tostr(shorthex, sizeof(shorthex), commit);
	if (git_object_lookup(&obj, repo, commit, GIT_OBJECT_ANY) < 0) {
		ret = sg_error_set(SG_ERROR, "cannot record a note on %s: no such object in the repository", hex);
		goto done;
	}
	if (message && *message)
		ret = sg_buf_puts(&msg, message);
	else
		ret = sg_buf_printf(&msg, "signgate: %s on %s", what, shorthex);
	if (ret < 0 || (msg.ptr[msg.size - 1] != '\n' && (ret = sg_buf_put(&msg, "\n", 1)) < 0))
		goto done;
	nl = strchr(msg.ptr, '\n');
	if ((ret = sg_buf_puts(&logmsg, "notes: ")) < 0 ||
	    (ret = sg_buf_put(&logmsg, msg.ptr, (size_t)(nl - msg.ptr))) < 0)
		goto done;
	if ((ret = default_signature(&sig, repo)) < 0)
		goto done;
	for (attempt = 0; attempt < SG_NOTES_RETRIES; attempt++) {
		if (attempt)
			backoff();
		ret = append_once(repo, notes_ref, commit, add, addlen, sig, msg.ptr, logmsg.ptr);
		if (ret != SG_ERETRY)
			goto done;
	}
	ret = gave_up(repo, notes_ref, hex);
done:
	git_signature_free(sig);
	git_object_free(obj);
	sg_buf_dispose(&msg);
	sg_buf_dispose(&logmsg);
	return ret;
}

int sg_notes_append(git_repository *repo, const char *notes_ref, const git_oid *commit,
		    const sg_event *events, size_t n, const char *message)
{
	sg_buf add = SG_BUF_INIT;
	char what[64];
	size_t i;
	int ret;

	if (!events || n == 0)
		return sg_error_set(SG_ERROR, "no event to record");
	sg_buf_init(&add, SG_NOTES_MAX);
	for (i = 0; i < n; i++) {
		if (events[i].n == 0 || (strcasecmp(events[i].f[0].key, SG_EVENT_KEY) != 0 &&
					 strcasecmp(events[i].f[0].key, SG_ATTESTATION_KEY) != 0)) {
			ret = sg_error_set(SG_ERROR, "event %zu does not start with %s", i + 1, SG_EVENT_KEY);
			goto done;
		}
		if ((i && (ret = sg_buf_put(&add, "\n", 1)) < 0) || (ret = sg_event_format(&events[i], &add)) < 0)
			goto done;
	}
	snprintf(what, sizeof(what), "record %zu event%s", n, n == 1 ? "" : "s");
	ret = append_paragraphs(repo, notes_ref, commit, add.ptr, add.size, message, what);
done:
	sg_buf_dispose(&add);
	return ret;
}

int sg_notes_append_text(git_repository *repo, const char *notes_ref, const git_oid *commit,
			 const char *text, const char *message)
{
	sg_buf add = SG_BUF_INIT;
	size_t len;
	int ret;

	if (!text)
		return sg_error_set(SG_ERROR, "no note text to record");
	len = strlen(text);
	while (len && strchr(" \t\r\n\f\v", text[len - 1]))
		len--;
	if (len == 0)
		return sg_error_set(SG_ERROR, "no note text to record");
	if (len > SG_NOTES_MAX)
		return sg_error_set(SG_ERROR, "note text is %zu bytes; the limit is %d", len, SG_NOTES_MAX);
	if ((ret = sg_buf_put(&add, text, len)) < 0 || (ret = sg_buf_put(&add, "\n", 1)) < 0)
		goto done;
	ret = append_paragraphs(repo, notes_ref, commit, add.ptr, add.size, message, "append note");
done:
	sg_buf_dispose(&add);
	return ret;
}

/* --- iteration ---------------------------------------------------------- */

typedef struct foreach_state {
	git_repository *repo;
	git_odb *odb;
	sg_notes_foreach_cb cb;
	void *payload;
	sg_buf buf;
	int cbret; /* the user callback's non-zero return */
	int err;   /* our own error */
} foreach_state;

static int foreach_one(const git_oid *blob_id, const git_oid *annotated, void *p)
{
	foreach_state *st = p;
	git_object_t type;
	size_t size;
	int r;

	if (git_odb_read_header(&size, &type, st->odb, blob_id) < 0) {
		st->err = sg_git_fail(SG_ERROR, "cannot read a note");
		return -1;
	}
	if (type != GIT_OBJECT_BLOB || size > SG_NOTES_MAX)
		return 0; /* not a note we can read: skipped, as documented */
	sg_buf_clear(&st->buf);
	if ((r = sg_notes_read_blob(&st->buf, st->repo, blob_id, SG_NOTES_MAX)) < 0) {
		st->err = r;
		return -1;
	}
	r = st->cb(annotated, st->buf.ptr ? st->buf.ptr : "", st->buf.size, st->payload);
	if (r != 0) {
		st->cbret = r;
		return r;
	}
	return 0;
}

int sg_notes_foreach(git_repository *repo, const char *notes_ref, sg_notes_foreach_cb cb, void *payload)
{
	foreach_state st;
	git_reference *ref = NULL;
	int ret, r;

	memset(&st, 0, sizeof(st));
	if ((ret = sg_notes_ref_check(notes_ref)) < 0)
		return ret;
	r = git_reference_lookup(&ref, repo, notes_ref);
	if (r == GIT_ENOTFOUND)
		return SG_OK;
	git_reference_free(ref);
	if (r < 0)
		return sg_git_fail(SG_ERROR, notes_ref);
	st.repo = repo;
	st.cb = cb;
	st.payload = payload;
	if (git_repository_odb(&st.odb, repo) < 0) {
		ret = sg_git_fail(SG_ERROR, "cannot open the object database");
		goto done;
	}
	r = git_note_foreach(repo, notes_ref, foreach_one, &st);
	if (st.cbret) {
		ret = st.cbret;
		goto done;
	}
	if (st.err) {
		ret = st.err;
		goto done;
	}
	if (r == GIT_ENOTFOUND) {
		ret = SG_OK;
		goto done;
	}
	if (r < 0) {
		ret = sg_git_fail(SG_ERROR, notes_ref);
		goto done;
	}
	ret = SG_OK;
done:
	sg_buf_dispose(&st.buf);
	git_odb_free(st.odb);
	return ret;
}
