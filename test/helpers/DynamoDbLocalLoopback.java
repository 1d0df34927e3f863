import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import software.amazon.dynamodb.services.local.main.ServerRunner;
import software.amazon.dynamodb.services.local.server.DynamoDBProxyServer;

/**
 * Starts AWS's DynamoDB Local (in memory, telemetry off) listening on 127.0.0.1 only, on a free
 * port, and prints "listening on <port>". DynamoDB Local's own command line has no host option and
 * binds every interface, so this replaces the Jetty connector its server was built with before the
 * server starts. Used by test/helpers/dynamodb-local.ts.
 */
public class DynamoDbLocalLoopback {
  public static void main(String[] args) throws Exception {
    DynamoDBProxyServer proxy =
        ServerRunner.createServerFromCommandLineArgs(
            new String[] {"-inMemory", "-disableTelemetry", "-port", "2"});
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) server.removeConnector(connector);
    ServerConnector loopback = new ServerConnector(server);
    loopback.setHost("127.0.0.1");
    loopback.setPort(0);
    server.addConnector(loopback);
    proxy.start();
    System.out.println("listening on " + loopback.getLocalPort());
    System.out.flush();
    proxy.join();
  }
}
