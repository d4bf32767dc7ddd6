package org.esmp.server.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import javax.xml.parsers.DocumentBuilderFactory;
import org.esmp.api.ServerContext;
import org.pf4j.Extension;
import org.pf4j.processor.ExtensionAnnotationProcessor;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

/**
 * Builds the third-party example plugins of {@code examples/} the way their own Maven builds do,
 * but against this build's API classes, so that the tests need nothing installed: javac with PF4J's
 * annotation processor (which writes {@code META-INF/extensions.idx}), and a jar whose manifest
 * carries the PF4J descriptor from the example's {@code pom.xml} properties.
 */
public final class ExamplePlugins {

  private ExamplePlugins() {}

  /** The directory of the example {@code name}, from the build's {@code esmp.examples}. */
  public static Path source(String name) {
    String examples = System.getProperty("esmp.examples");
    assertTrue(examples != null, "the build names the examples directory in esmp.examples");
    Path dir = Path.of(examples, name);
    assertTrue(Files.isRegularFile(dir.resolve("pom.xml")), dir + " holds an example plugin");
    return dir;
  }

  /** The {@code reaction} example as its pom describes it, written to {@code jar}. */
  public static Path reaction(Path jar) throws IOException {
    return build(source("reaction-plugin"), jar, null, null);
  }

  /**
   * Compiles the example in {@code source} and writes its plugin jar.
   *
   * @param id the plugin id to write instead of the pom's {@code plugin.id}, or {@code null}
   * @param version the plugin version to write instead of the pom's, or {@code null}
   */
  public static Path build(Path source, Path jar, String id, String version) throws IOException {
    Path classes = Files.createTempDirectory("example-classes-");
    List<Path> sources;
    try (Stream<Path> files = Files.walk(source.resolve("src/main/java"))) {
      sources = files.filter(f -> f.toString().endsWith(".java")).toList();
    }
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    StringWriter diagnostics = new StringWriter();
    try (StandardJavaFileManager files = javac.getStandardFileManager(null, null, null)) {
      // Only the API and PF4J, as the example's own build has them (scope provided).
      String classpath = location(ServerContext.class) + java.io.File.pathSeparator + location(Extension.class);
      List<String> options = List.of("--release", "17", "-classpath", classpath, "-d", classes.toString());
      Iterable<? extends JavaFileObject> units = files.getJavaFileObjectsFromPaths(sources);
      JavaCompiler.CompilationTask task = javac.getTask(diagnostics, files, null, options, null, units);
      task.setProcessors(List.of(new ExtensionAnnotationProcessor()));
      assertTrue(task.call(), "the example compiles against the API alone:\n" + diagnostics);
    }
    assertTrue(Files.isRegularFile(classes.resolve("META-INF/extensions.idx")), "PF4J's processor listed the extensions");

    Element properties = properties(source.resolve("pom.xml"));
    Manifest manifest = new Manifest();
    Attributes main = manifest.getMainAttributes();
    main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
    main.putValue("Plugin-Id", id != null ? id : text(properties, "plugin.id"));
    main.putValue("Plugin-Version", version != null ? version : projectVersion(source.resolve("pom.xml")));
    main.putValue("Plugin-Provider", text(properties, "plugin.provider"));
    main.putValue("Plugin-Requires", text(properties, "plugin.requires"));
    Files.createDirectories(jar.toAbsolutePath().getParent());
    Path partial = jar.resolveSibling("." + jar.getFileName() + ".part");
    try (OutputStream out = Files.newOutputStream(partial); JarOutputStream zip = new JarOutputStream(out, manifest);
        Stream<Path> files = Files.walk(classes)) {
      List<Path> entries = new ArrayList<>(files.filter(Files::isRegularFile).sorted().toList());
      for (Path file : entries) {
        zip.putNextEntry(new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
        zip.write(Files.readAllBytes(file));
        zip.closeEntry();
      }
    }
    Files.move(partial, jar, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    try (Stream<Path> files = Files.walk(classes)) {
      for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
    return jar;
  }

  private static String location(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Element properties(Path pom) throws IOException {
    return (Element) pom(pom).getDocumentElement().getElementsByTagName("properties").item(0);
  }

  private static String projectVersion(Path pom) throws IOException {
    Element project = pom(pom).getDocumentElement();
    for (var node = project.getFirstChild(); node != null; node = node.getNextSibling()) {
      if (node instanceof Element element && element.getTagName().equals("version")) {
        return element.getTextContent().trim();
      }
    }
    throw new IllegalStateException(pom + " has no version");
  }

  private static String text(Element properties, String name) {
    return properties.getElementsByTagName(name).item(0).getTextContent().trim();
  }

  private static Document pom(Path pom) throws IOException {
    try {
      return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(pom.toFile());
    } catch (Exception e) {
      throw new IOException("cannot read " + pom, e);
    }
  }
}
