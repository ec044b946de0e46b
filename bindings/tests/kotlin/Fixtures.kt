package cn.linli.tests

import java.io.File
import java.nio.file.Files
import java.util.UUID
import java.util.concurrent.CompletableFuture
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.job
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.withTimeout
import org.junit.rules.ExternalResource
import uniffi.linli.CareTag
import uniffi.linli.Housing
import uniffi.linli.LinliStore
import uniffi.linli.NewHousehold
import uniffi.linli.NewMember
import uniffi.linli.Place
import uniffi.linli.PlaceKind
import uniffi.linli.Relation
import uniffi.linli.Residency
import uniffi.linli.SyncSettings

const val LI_MEI = "user-limei"
const val ZHAO = "user-zhao"

/** The database key of every test store (an app generates its own, see SecretStore). */
val DB_KEY = ByteArray(32) { (it + 1).toByte() }
const val DAY_MS = 24L * 3600 * 1000

/** The demo community's place tree, as the sync server seeds it (sync-server/src/admin.rs). */
val DEMO_PLACES = listOf(
    Place("c-xingfu", PlaceKind.COMMUNITY, null, "幸福社区"),
    Place("g-1", PlaceKind.GRID, "c-xingfu", "第一网格"),
    Place("g-2", PlaceKind.GRID, "c-xingfu", "第二网格"),
    Place("b-1", PlaceKind.BUILDING, "g-1", "安置小区1栋"),
    Place("b-2", PlaceKind.BUILDING, "g-1", "安置小区2栋"),
    Place("b-9", PlaceKind.BUILDING, "g-2", "桂花苑9栋"),
    Place("u-1-1", PlaceKind.UNIT, "b-1", "1单元"),
    Place("u-1-2", PlaceKind.UNIT, "b-1", "2单元"),
)

fun household(
    placeId: String,
    room: String,
    head: String,
    tags: List<CareTag> = emptyList(),
) = NewHousehold(
    placeId = placeId,
    room = room,
    residency = Residency.RESIDENT,
    housing = Housing.RESETTLEMENT,
    tags = tags,
    notes = "",
    members = listOf(NewMember(head, Relation.HEAD, birthYear = 1950, phone = null, idNumber = null)),
)

/** Waits (up to 10 s) until the state satisfies [predicate]; returns that state. */
suspend fun <T> StateFlow<T>.await(predicate: (T) -> Boolean): T =
    withTimeout(10_000) { first(predicate) }

/**
 * Device stores in a temporary directory, closed and deleted after the test, plus a
 * coroutine scope for state classes (as a ViewModel's scope would be), cancelled after it.
 */
class TempStores : ExternalResource() {
    lateinit var dir: File
        private set
    val scope = CoroutineScope(SupervisorJob() + Dispatchers.Default)
    private val opened = mutableListOf<LinliStore>()

    override fun before() {
        dir = Files.createTempDirectory("linli-kotlin-").toFile()
    }

    override fun after() {
        // Screens unsubscribe as their scope completes: let them, before the stores close.
        runBlocking { scope.coroutineContext.job.cancelAndJoin() }
        opened.forEach { it.close() }
        dir.deleteRecursively()
    }

    /** A store for [userId]; with [places], holding the demo place tree as if synced. */
    fun open(
        userId: String,
        deviceId: String = UUID.randomUUID().toString(),
        places: Boolean = true,
    ): LinliStore {
        val store = LinliStore.open(File(dir, "$userId-$deviceId.db").path, deviceId, userId, DB_KEY)
        opened += store
        if (places) store.putPlaces(DEMO_PLACES)
        return store
    }
}

/**
 * `linli-demo --no-simulate` on a free loopback port with its own database: the demo community
 * seeded and a device enrolled per user. Killed on [close].
 */
class DemoServer private constructor(
    private val process: Process,
    val url: String,
    private val devices: Map<String, Device>,
) : AutoCloseable {
    data class Device(val userId: String, val deviceId: String, val token: String)

    fun device(userId: String): Device = devices.getValue(userId)

    fun settings(userId: String) = SyncSettings(url, device(userId).token)

    override fun close() {
        process.destroy()
        if (!process.waitFor(5, TimeUnit.SECONDS)) process.destroyForcibly().waitFor()
    }

    companion object {
        fun start(dir: File): DemoServer {
            val binary = System.getProperty("linli.server")
                ?: error("set -Dlinli.server to the linli-demo binary")
            val log = File(dir, "server.log")
            val process = ProcessBuilder(
                binary, "--db", File(dir, "server.db").path,
                "--listen", "127.0.0.1:0", "--no-simulate",
            ).redirectError(log).start()
            // Reads the device table, then `listening on http://ADDR`; bounded, so a server
            // that hangs fails the test instead of blocking it.
            val ready = CompletableFuture.supplyAsync {
                val devices = mutableMapOf<String, Device>()
                val lines = process.inputStream.bufferedReader().lineSequence().iterator()
                while (lines.hasNext()) {
                    val line = lines.next()
                    if (line.startsWith("listening on ")) {
                        return@supplyAsync line.removePrefix("listening on ").trim() to devices
                    }
                    val cells = line.split('\t')
                    if (cells.size == 5 && cells[0] != "user") {
                        devices[cells[2]] = Device(cells[2], cells[3], cells[4])
                    }
                }
                null
            }
            val (url, devices) = try {
                ready.get(60, TimeUnit.SECONDS)
            } catch (e: Exception) {
                process.destroyForcibly()
                throw IllegalStateException("server did not start: ${log.readText()}", e)
            } ?: run {
                process.destroyForcibly()
                error("server exited before listening: ${log.readText()}")
            }
            return DemoServer(process, url, devices)
        }
    }
}
