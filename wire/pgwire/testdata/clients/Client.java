// pgjdbc against tsgate: SCRAM login, PreparedStatement (extended protocol,
// server-side after prepareThreshold), DatabaseMetaData as DBeaver and
// Metabase use it, an error with SQLSTATE. Prints OK; exits 1 on failure.
import java.sql.*;

public class Client {
    static void check(boolean ok, String what) {
        if (!ok) {
            System.err.println("FAIL: " + what);
            System.exit(1);
        }
    }

    public static void main(String[] args) throws Exception {
        String url = System.getenv("JDBCURL");
        try (Connection c = DriverManager.getConnection(url, "alice", System.getenv("PGPASSWORD"))) {
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT 1")) {
                check(r.next() && r.getInt(1) == 1, "SELECT 1");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT host, usage, count FROM cpu WHERE host = ? ORDER BY time")) {
                for (int i = 0; i < 6; i++) { // past prepareThreshold (5): named server statement
                    ps.setString(1, "a");
                    try (ResultSet r = ps.executeQuery()) {
                        check(r.next() && r.getString(1).equals("a") && r.getDouble(2) == 1.5 && r.getLong(3) == 3, "row 1");
                        check(r.next() && r.getDouble(2) == 3.5, "row 2");
                        check(!r.next(), "two rows");
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM cpu WHERE count > ?")) {
                ps.setInt(1, 3);
                try (ResultSet r = ps.executeQuery()) {
                    check(r.next() && r.getLong(1) == 2, "count > 3");
                }
            }
            try (Statement s = c.createStatement()) {
                s.executeQuery("SELECT nosuchcol FROM cpu");
                check(false, "expected an error");
            } catch (SQLException e) {
                check(e.getSQLState() != null, "sqlstate");
            }
            if ("1".equals(System.getenv("WITH_METADATA"))) {
                DatabaseMetaData md = c.getMetaData();
                boolean cpu = false;
                try (ResultSet r = md.getTables(null, "public", "%", new String[]{"TABLE"})) {
                    while (r.next()) cpu |= r.getString("TABLE_NAME").equals("cpu");
                }
                check(cpu, "getTables lists cpu");
                int cols = 0;
                boolean usage = false;
                try (ResultSet r = md.getColumns(null, "public", "cpu", "%")) {
                    while (r.next()) {
                        cols++;
                        if (r.getString("COLUMN_NAME").equals("usage")) usage = r.getInt("DATA_TYPE") == Types.DOUBLE;
                    }
                }
                check(cols == 5 && usage, "getColumns cpu: " + cols);
                boolean pub = false;
                try (ResultSet r = md.getSchemas()) {
                    while (r.next()) pub |= r.getString("TABLE_SCHEM").equals("public");
                }
                check(pub, "getSchemas lists public");
                try (ResultSet r = md.getPrimaryKeys(null, "public", "cpu")) {
                    check(!r.next(), "no primary key");
                }
                try (ResultSet r = md.getIndexInfo(null, "public", "cpu", false, true)) {
                    check(!r.next(), "no index");
                }
                int types = 0;
                try (ResultSet r = md.getTypeInfo()) {
                    while (r.next()) types++;
                }
                check(types > 10, "getTypeInfo: " + types);
            }
        }
        System.out.println("OK");
    }
}
