package org.apache.iceberg.rest;

import java.util.Map;

/**
 * Iceberg's own REST catalog server (iceberg-open-api's test fixture, a JDBC catalog behind Iceberg's
 * REST servlet on Jetty), started with explicit properties: its Map constructor is package-private, and
 * the public one reads only environment variables.
 */
public final class LoopbackRestCatalogServer implements AutoCloseable {
  private final RESTCatalogServer server;

  private LoopbackRestCatalogServer(RESTCatalogServer server) {
    this.server = server;
  }

  /** {@code properties}: the backing catalog's (warehouse, io-impl, s3.*) and {@code rest.port}. */
  public static LoopbackRestCatalogServer start(Map<String, String> properties) throws Exception {
    RESTCatalogServer server = new RESTCatalogServer(properties);
    server.start(false);
    return new LoopbackRestCatalogServer(server);
  }

  @Override
  public void close() throws Exception {
    server.stop();
  }
}
