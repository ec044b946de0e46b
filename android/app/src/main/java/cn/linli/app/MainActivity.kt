package cn.linli.app

import android.Manifest
import android.content.pm.PackageManager
import android.os.Build
import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.result.contract.ActivityResultContracts
import androidx.activity.compose.setContent
import androidx.compose.material3.MaterialTheme
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.produceState
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import cn.linli.app.state.toNotice
import cn.linli.app.ui.LinliApp
import cn.linli.app.ui.LoadingScreen
import cn.linli.app.ui.NoticeScreen
import cn.linli.app.ui.SignInScreen
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

class MainActivity : ComponentActivity() {
    // A refusal is fine: background syncs still run, only without notifications.
    private val askNotifications = registerForActivityResult(ActivityResultContracts.RequestPermission()) {}

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val app = application as LinliApplication
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.TIRAMISU &&
            checkSelfPermission(Manifest.permission.POST_NOTIFICATIONS) != PackageManager.PERMISSION_GRANTED
        ) {
            askNotifications.launch(Manifest.permission.POST_NOTIFICATIONS)
        }
        setContent {
            MaterialTheme {
                var account by remember { mutableStateOf(app.accounts.load()) }
                val signedIn = account
                if (signedIn == null) {
                    SignInScreen(onSignedIn = {
                        app.accounts.save(it)
                        // A new enrolment's alerts start from its own first sync.
                        SnapshotPrefs(app).clear()
                        SyncWorker.schedule(app)
                        account = it
                    })
                } else {
                    val store by produceState<Result<uniffi.linli.LinliStore>?>(null, signedIn) {
                        value = withContext(Dispatchers.IO) { runCatching { app.store(signedIn) } }
                    }
                    store?.fold(
                        onSuccess = { LinliApp(it, signedIn.syncSettings) },
                        onFailure = { NoticeScreen(it.toNotice()) },
                    ) ?: LoadingScreen()
                }
            }
        }
    }
}
