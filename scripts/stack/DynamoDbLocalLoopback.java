import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Starts DynamoDB Local with its usual command-line options, but bound to
 * 127.0.0.1: DynamoDB Local has no bind-address option and listens on all
 * interfaces otherwise. Host comes from -Dferry.dynamodb.host (default 127.0.0.1).
 */
public class DynamoDbLocalLoopback {
    public static void main(String[] args) throws Exception {
        String host = System.getProperty("ferry.dynamodb.host", "127.0.0.1");
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field f = DynamoDBProxyServer.class.getDeclaredField("server");
        f.setAccessible(true);
        Server jetty = (Server) f.get(proxy);
        int bound = 0;
        for (Connector c : jetty.getConnectors()) {
            if (c instanceof ServerConnector sc) {
                sc.setHost(host);
                bound++;
            }
        }
        if (bound == 0) {
            throw new IllegalStateException("no Jetty ServerConnector found to bind to " + host);
        }
        proxy.start();
        System.out.println("DynamoDB Local listening on " + host);
        proxy.join();
    }
}
