package dev.conveyor.runway.merge;

import dev.conveyor.runway.change.ChangeUri;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import org.eclipse.jgit.errors.CorruptObjectException;
import org.eclipse.jgit.errors.IncorrectObjectTypeException;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectChecker;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.revwalk.ObjectWalk;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevObject;
import org.eclipse.jgit.transport.Transport;

/**
 * Checks objects as {@code git fsck} does, with JGit's {@link ObjectChecker}: on every fetch into a
 * cache (so a malformed object never lands there), and again over what each change brings before
 * anything is applied (objects fetched before this check existed may already sit in a cache). A
 * malformed object is the change's fault: a {@link MergeRejection}, never a retry.
 */
final class ObjectFsck {
  private ObjectFsck() {}

  /** One object the checker refused. */
  record Finding(ObjectId id, int type, ObjectChecker.ErrorType error, String detail) {
    String describe() {
      return Constants.typeString(type) + " " + id.name() + " is malformed: "
          + (error == null ? "" : error.getMessageId() + " ") + "(" + detail + ")";
    }
  }

  /**
   * git's transfer checks: everything fsck reports as an error. Zero-padded file modes, written by
   * old git versions and only a warning to git, are allowed.
   */
  static Checker checker() {
    Checker c = new Checker();
    c.setAllowLeadingZeroFileMode(true);
    return c;
  }

  /** Enables object checking on a fetch through {@code transport}; the checker keeps what it refused. */
  static Checker checkFetches(Transport transport) {
    Checker c = checker();
    transport.setCheckFetchedObjects(true);
    transport.setObjectChecker(c);
    return c;
  }

  /** An {@link ObjectChecker} that remembers the object it refused, with its type, for the reason. */
  static final class Checker extends ObjectChecker {
    private volatile Finding finding;

    @Override
    public void check(AnyObjectId id, int objType, byte[] raw) throws CorruptObjectException {
      try {
        super.check(id, objType, raw);
      } catch (CorruptObjectException e) {
        String detail = e.getMessage();
        ObjectChecker.ErrorType error = e.getErrorType();
        if (error != null && detail.startsWith(error.getMessageId() + ": ")) {
          detail = detail.substring(error.getMessageId().length() + 2);
        }
        detail = detail.replaceFirst("^object [0-9a-f]{40}: ", "");
        finding = new Finding(id == null ? ObjectId.zeroId() : id.copy(), objType, error, detail);
        throw e;
      }
    }

    Finding finding() {
      return finding;
    }
  }

  /**
   * Checks every commit, tree and tag reachable from {@code head} and not from {@code tip} (blobs
   * carry nothing fsck errors on); objects in {@code checked} are skipped and the rest added to it.
   */
  static void checkChange(ObjectReader reader, ChangeUri change, RevCommit head, ObjectId tip, Set<ObjectId> checked)
      throws IOException, MergeRejection {
    Checker checker = checker();
    try (ObjectWalk walk = new ObjectWalk(reader)) {
      walk.markStart(walk.parseCommit(head));
      walk.markUninteresting(walk.parseCommit(tip));
      for (RevCommit c; (c = walk.next()) != null; ) {
        check(reader, checker, change, c, Constants.OBJ_COMMIT, checked);
      }
      Set<ObjectId> blobs = new HashSet<>();
      for (RevObject o; (o = walk.nextObject()) != null; ) {
        if (o.getType() != Constants.OBJ_BLOB) {
          check(reader, checker, change, o, o.getType(), checked);
        } else {
          blobs.add(o.copy());
        }
      }
      checkGitmodules(reader, checker, change, blobs);
    } catch (IncorrectObjectTypeException | CorruptObjectException e) {
      // a tree entry naming an object of another type, or an object that does not parse: the same on every read
      throw new MergeRejection(null, "change " + change + ": malformed objects: " + e.getMessage());
    }
  }

  /**
   * git fsck also parses every {@code .gitmodules} blob a tree names (gitmodulesUrl, gitmodulesPath,
   * gitmodulesName: a submodule URL or path that starts with '-' is an option injection into a later
   * {@code git clone --recurse-submodules}); JGit's checker only collects them. Checked here when the
   * change brings the blob (one already on the target is not the change's doing).
   */
  private static void checkGitmodules(ObjectReader reader, Checker checker, ChangeUri change, Set<ObjectId> brought)
      throws IOException, MergeRejection {
    for (org.eclipse.jgit.lib.GitmoduleEntry e : checker.getGitsubmodules()) {
      ObjectId blob = e.getBlobId().copy();
      if (!brought.contains(blob)) {
        continue;
      }
      String detail;
      ObjectChecker.ErrorType error;
      try {
        byte[] raw = reader.open(blob, Constants.OBJ_BLOB).getCachedBytes(1 << 20);
        org.eclipse.jgit.internal.submodule.SubmoduleValidator.assertValidGitModulesFile(
            org.eclipse.jgit.util.RawParseUtils.decode(raw));
        continue;
      } catch (org.eclipse.jgit.errors.LargeObjectException tooLarge) {
        error = ObjectChecker.ErrorType.GITMODULES_LARGE;
        detail = ".gitmodules is too large to parse";
      } catch (org.eclipse.jgit.internal.submodule.SubmoduleValidator.SubmoduleValidationException invalid) {
        error = invalid.getFsckMessageId();
        detail = invalid.getMessage();
      }
      throw new MergeRejection(null, "change " + change + ": "
          + new Finding(blob, Constants.OBJ_BLOB, error, detail).describe());
    }
  }

  /** Checks the commits and trees reachable from {@code heads} but not from {@code tip}, each change on its own. */
  static void checkChanges(ObjectReader reader, java.util.Map<ChangeUri, RevCommit> heads, ObjectId tip)
      throws IOException, MergeRejection {
    Set<ObjectId> checked = new HashSet<>();
    for (var e : heads.entrySet()) {
      checkChange(reader, e.getKey(), e.getValue(), tip, checked);
    }
  }

  private static void check(ObjectReader reader, Checker checker, ChangeUri change, AnyObjectId id, int type,
      Set<ObjectId> checked) throws IOException, MergeRejection {
    if (!checked.add(id.copy())) {
      return;
    }
    try {
      checker.check(id, type, reader.open(id, type).getCachedBytes());
    } catch (CorruptObjectException e) {
      throw new MergeRejection(null, "change " + change + ": " + checker.finding().describe());
    }
  }
}
