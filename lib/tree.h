/*
 * tree.h: the files of a local folder tree, minus omit patterns.
 *
 * Patterns are fnmatch(3) globs matched against each file's or folder's
 * name and against its path relative to the tree's root (".git",
 * "__pycache__", "*.pyc", "data/raw"). An omitted folder is not entered.
 * Symbolic links to files are followed; links to folders are not entered.
 * A tree marked beneath (tree_scan_beneath) follows no link out of its
 * root: see there.
 */
#ifndef XT_TREE_H
#define XT_TREE_H

#include <stdint.h>
#include <sys/types.h>

struct tree_file {
	char *rel;		/* path relative to the root, '/'-separated */
	char *full;		/* path as given plus rel */
	char *target;		/* beneath: the path under the root whose bytes these are */
	int64_t size;
	int64_t mtime_ns;
	mode_t mode;
};

struct tree {
	struct tree_file *files;
	size_t n, cap;
	char **omit;		/* patterns, owned */
	size_t nomit;
	struct tree_refusal {
		char *rel;		/* a link not followed (beneath), owned */
		const char *why;	/* "a link to outside the folder, not followed", static */
	} *refused;
	size_t nrefused;
};

void tree_init(struct tree *t);
void tree_release(struct tree *t);
/* Add an omit pattern (copied). */
void tree_omit(struct tree *t, const char *pattern);
/* True when rel (or its last part) matches an omit pattern. */
int tree_omitted(const struct tree *t, const char *rel);
/*
 * Add the files under root (a folder) to t, with rel prefixed by prefix
 * ("" for none). Files are sorted by rel. Returns 0, or -1 after warning
 * (through warnx) about each unreadable folder or special file; the files
 * that could be read are added all the same.
 */
int tree_scan(struct tree *t, const char *root, const char *prefix);
/*
 * tree_scan of a root a program wrote (a run's output folder), which may
 * hold links meant to reach out of it. A link is followed only when its
 * target, resolved, is a regular file inside root: it is added under the
 * link's name, its target (relative to root, no link in it) in target. A
 * link to a file or folder outside root, a dangling link and a link to a
 * folder are not followed: each is added to refused, without a warning
 * (the caller says where it fits). Plain files get target = rel. Returns
 * as tree_scan.
 */
int tree_scan_beneath(struct tree *t, const char *root);
/*
 * Open for reading the file target (relative to root, as tree_scan_beneath
 * gives it) without following any link: a link put in its path since the
 * scan makes it fail (ELOOP or EXDEV). The fd, or -1 with errno.
 */
int tree_open_beneath(const char *root, const char *target);
/* Add a store object (no local file: full is NULL) of the given size, as rel. */
void tree_add_entry(struct tree *t, const char *rel, int64_t size);
/* Add one file (a regular file, or a link to one) as rel. 0, or -1 with errno. */
int tree_add(struct tree *t, const char *full, const char *rel);

#endif
