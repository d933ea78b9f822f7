package io.synod.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads libsynod and the JNI library from the jar, so a program needs nothing but the jar
 * on its class path. Both are copied to a fresh temporary directory and loaded from there;
 * the copies are deleted at once (a loaded library stays mapped), so nothing is left behind.
 * The generated JNI class calls {@link #load} when it is first used (bindings/synod.i).
 */
public final class NativeLibrary {
  /** Where the build puts the libraries inside the jar, below one folder per platform. */
  static final String RESOURCE_ROOT = "/io/synod/native/";
  /** libsynod by its SONAME, which the JNI library names as its dependency. */
  static final String CORE = "libsynod.so.0";
  static final String JNI = "libsynod_jni.so";

  private static boolean loaded;

  private NativeLibrary() {}

  /** Loads both libraries once; later calls return at once. */
  public static synchronized void load() {
    if (loaded) {
      return;
    }
    String platform = platform();
    Path dir;
    try {
      dir = Files.createTempDirectory("synod-native-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot make a directory for Synod's native libraries", e);
    }
    try {
      // libsynod first: the JNI library's dependency on it is then met by the loaded copy.
      for (String name : new String[] {CORE, JNI}) {
        Path file = extract(platform, name, dir);
        System.load(file.toString());
      }
    } finally {
      deleteQuietly(dir);
    }
    loaded = true;
  }

  private static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    if (!os.startsWith("linux")) {
      throw new UnsatisfiedLinkError("Synod's jar carries native libraries for Linux only, not " + os);
    }
    switch (arch) {
      case "amd64":
      case "x86_64":
        return "linux-x86_64";
      case "aarch64":
        return "linux-aarch64";
      default:
        return "linux-" + arch;
    }
  }

  private static Path extract(String platform, String name, Path dir) {
    String resource = RESOURCE_ROOT + platform + "/" + name;
    try (InputStream in = NativeLibrary.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new UnsatisfiedLinkError("the jar has no " + resource + " (built for another platform?)");
      }
      Path file = dir.resolve(name);
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot extract " + resource, e);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var files = Files.list(dir)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(file);
      }
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      // Left in the temporary directory: harmless, and the libraries are loaded.
    }
  }
}
