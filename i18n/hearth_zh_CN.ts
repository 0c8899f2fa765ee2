<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>App</name>
    <message>
        <location filename="../app/hearth/ui/app.py" line="30"/>
        <source>Hearth could not start its service on port %1 (is Hearth already running?): %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ChatPage</name>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="53"/>
        <source>New chat</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="62"/>
        <source>System prompt (optional)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="77"/>
        <source>Ask something… (Ctrl+Enter sends)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="79"/>
        <location filename="../app/hearth/ui/chat_page.py" line="334"/>
        <source>Send</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="82"/>
        <source>Regenerate</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="87"/>
        <source>Temperature</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="89"/>
        <source>Max tokens</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="175"/>
        <source>Rename…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="176"/>
        <source>Export as Markdown…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="177"/>
        <source>Export as JSON…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="179"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="184"/>
        <source>Rename</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="184"/>
        <source>Title</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="207"/>
        <source>Markdown (*.md)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="207"/>
        <source>JSON (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="208"/>
        <source>Export conversation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="226"/>
        <source>Exported to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="234"/>
        <source>No model loaded: choose one on the Planner page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="237"/>
        <source>%1 on %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="240"/>
        <source>continues text; not tuned for chat</source>
        <translation>续写文本；未针对对话调优</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="291"/>
        <source>%1 tokens/s · first token %2 ms · context %3 % · %4</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="319"/>
        <source>Answering another app…</source>
        <translation>正在回答另一个应用…</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/chat_page.py" line="321"/>
        <location filename="../app/hearth/ui/chat_page.py" line="324"/>
        <source>%n more waiting</source>
        <translation>
            <numerusform>还有 %n 个在等待</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="334"/>
        <source>Stop</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="340"/>
        <source>You</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="340"/>
        <source>Hearth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/chat_page.py" line="340"/>
        <source>System</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>CodeDialog</name>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="91"/>
        <source>Pairing request</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="93"/>
        <source>%1 wants to pair with this device. Type this code there:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="106"/>
        <source>Only pair with devices you own. The code is valid for %1 seconds.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DeviceCard</name>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="46"/>
        <source>Pair…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="48"/>
        <source>Forget</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="62"/>
        <source> (this device)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="70"/>
        <source>%1 memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="76"/>
        <source>Used</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="77"/>
        <source>Donated</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="81"/>
        <source>%1 used · %2 free of %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="84"/>
        <source>donates %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="90"/>
        <source>Donating to paired devices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="90"/>
        <source>Not donating</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="92"/>
        <source>Paired · connected · %1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="94"/>
        <source>Paired · not reachable</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="98"/>
        <source>Not paired</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="98"/>
        <source>Not paired · offline</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DeviceColumn</name>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="55"/>
        <source>System</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="56"/>
        <source>Weights</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="57"/>
        <source>KV cache</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="58"/>
        <source>Compute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="62"/>
        <source>no layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="65"/>
        <source>layers %1–%2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/device_column.py" line="68"/>
        <source>needs %1 of %2</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DevicesPage</name>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="108"/>
        <source>Add by address…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="113"/>
        <source>Devices in this home appear here by themselves.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="155"/>
        <source>Forget %1?</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="156"/>
        <source>%1 will no longer be trusted; pairing again needs a new code.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="166"/>
        <source>Add a device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="166"/>
        <source>Address (host:port) of a device running Hearth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="177"/>
        <source>Could not add it: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/devices_page.py" line="172"/>
        <source>Found %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>DownloadRow</name>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="39"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="58"/>
        <source>%1 of %2</source>
        <translation>%1 / %2</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="62"/>
        <source>%1/s</source>
        <translation>%1/秒</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="64"/>
        <source>%1 left</source>
        <translation>剩余 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="67"/>
        <source>Paused at %1</source>
        <translation>已暂停：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="69"/>
        <source>Stopped: %1</source>
        <translation>已停止：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="71"/>
        <source>Done: %1</source>
        <translation>完成：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="73"/>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="73"/>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
</context>
<context>
    <name>DownloadsView</name>
    <message>
        <location filename="../app/hearth/ui/downloads_view.py" line="89"/>
        <source>No downloads. Pick a model from the catalog or a hub search.</source>
        <translation>没有下载任务。请从目录中选择模型，或在模型库中搜索。</translation>
    </message>
</context>
<context>
    <name>HubList</name>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="53"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="53"/>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="53"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="53"/>
        <source>Fits</source>
        <translation>能否运行</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="60"/>
        <source>checking…</source>
        <translation>检查中…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="90"/>
        <source>unknown: %1</source>
        <translation>未知：%1</translation>
    </message>
</context>
<context>
    <name>LayerStrip</name>
    <message>
        <location filename="../app/hearth/ui/layer_strip.py" line="199"/>
        <source>Pick a model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/layer_strip.py" line="215"/>
        <source>out</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="44"/>
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="45"/>
        <source>Planner</source>
        <translation>规划器</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="46"/>
        <source>Chat</source>
        <translation>聊天</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="47"/>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="48"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="139"/>
        <source>Pairing request</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="143"/>
        <source>%1 wants to pair. Code: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="153"/>
        <source>Hearth keeps donating from the tray.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/main_window.py" line="161"/>
        <source>This desktop has no tray, so closing the window quits Hearth and stops donating.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ModelsPage</name>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="85"/>
        <source>Import a .gguf file…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="81"/>
        <source>Models on this device</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="62"/>
        <source>On this device</source>
        <translation>本设备上</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="63"/>
        <location filename="../app/hearth/ui/models_page.py" line="215"/>
        <source>Catalog</source>
        <translation>目录</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="64"/>
        <source>Search the hub</source>
        <translation>搜索模型库</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="66"/>
        <source>Downloads</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="87"/>
        <source>Plan and chat</source>
        <translation>规划并聊天</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="89"/>
        <source>Show in folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="91"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="116"/>
        <source>%1 — cannot be used: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="120"/>
        <source>continues text; not tuned for chat</source>
        <translation>续写文本；未针对对话调优</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="126"/>
        <source>No models on this device yet. The Catalog tab suggests models that fit your devices.</source>
        <translation>本设备上还没有模型。“目录”标签页会推荐适合您设备的模型。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="149"/>
        <source>yes</source>
        <translation>有</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="149"/>
        <source>no: continues text; not tuned for chat</source>
        <translation>没有：只会续写文本，未针对对话调优</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="151"/>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="152"/>
        <source>Parameters</source>
        <translation>参数量</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="153"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="154"/>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="155"/>
        <source>Layers</source>
        <translation>层数</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="156"/>
        <source>Context length</source>
        <translation>上下文长度</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="157"/>
        <source>Licence</source>
        <translation>许可证</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="157"/>
        <source>not stated in the file</source>
        <translation>文件中未注明</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="158"/>
        <source>Chat template</source>
        <translation>对话模板</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="159"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="177"/>
        <source>Delete %1 from this device?</source>
        <translation>要从本设备删除 %1 吗？</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="178"/>
        <source>Delete model</source>
        <translation>删除模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="185"/>
        <source>Deleted %1</source>
        <translation>已删除 %1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="193"/>
        <source>Import a model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="193"/>
        <source>GGUF models (*.gguf);;All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="197"/>
        <source>Checking %1…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="201"/>
        <source>%1 was not imported: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="207"/>
        <source>Imported %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="218"/>
        <location filename="../app/hearth/ui/models_page.py" line="283"/>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="243"/>
        <source>Instruct models from small to 70B class. Each says whether it fits this device, your paired devices together, or neither.</source>
        <translation>从小型到 70B 级别的指令模型。每个模型都会注明：本设备能否运行、需与已配对设备合力运行，还是都无法运行。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="258"/>
        <source>Asking the hub for %1…</source>
        <translation>正在向模型库查询 %1…</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="267"/>
        <source>Welcome to Hearth. Start with a model: those marked &quot;fits this device&quot; run here alone, the others need your paired devices. Small ones download in minutes.</source>
        <translation>欢迎使用 Hearth。先选一个模型吧：标有“本设备可运行”的模型在这台设备上就能独立运行，其他模型需要已配对的设备一起运行。小模型几分钟即可下载完成。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="276"/>
        <source>Search GGUF models on Hugging Face, e.g. &quot;qwen 7b&quot;</source>
        <translation>在 Hugging Face 上搜索 GGUF 模型，例如“qwen 7b”</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="277"/>
        <source>Search text</source>
        <translation>搜索内容</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="279"/>
        <source>Search</source>
        <translation>搜索</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="282"/>
        <source>Search results</source>
        <translation>搜索结果</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="304"/>
        <source>Searching the hub for %1…</source>
        <translation>正在模型库中搜索 %1…</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/models_page.py" line="326"/>
        <source>%n model file(s) found</source>
        <translation>
            <numerusform>找到 %n 个模型文件</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/models_page.py" line="337"/>
        <source>Downloading %1</source>
        <translation>正在下载 %1</translation>
    </message>
</context>
<context>
    <name>OtherAppsBox</name>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="25"/>
        <source>Other apps</source>
        <translation>其他应用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="28"/>
        <source>Let apps on this device use the loaded model (OpenAI-compatible API)</source>
        <translation>允许本设备上的应用使用已加载的模型（兼容 OpenAI 的 API）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="30"/>
        <source>Also let other devices on the network use it (they need the key)</source>
        <translation>也允许网络中的其他设备使用（需要密钥）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="34"/>
        <source>none (web pages may not call it)</source>
        <translation>无（网页不可调用）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="35"/>
        <source>Keep other apps&apos; conversations in the chat history</source>
        <translation>在聊天记录中保存其他应用的对话</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="43"/>
        <source>Show</source>
        <translation>显示</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="48"/>
        <source>Copy key</source>
        <translation>复制密钥</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="50"/>
        <source>New key</source>
        <translation>新密钥</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="55"/>
        <source>Copy example</source>
        <translation>复制示例</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="57"/>
        <source>Apply</source>
        <translation>应用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="70"/>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="71"/>
        <source>Web pages allowed (origins, comma-separated)</source>
        <translation>允许的网页（来源，以逗号分隔）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="74"/>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="75"/>
        <source>Key</source>
        <translation>密钥</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="76"/>
        <source>Try it</source>
        <translation>试一试</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="94"/>
        <source>Not listening: %1</source>
        <translation>未在监听：%1</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="96"/>
        <source>%1 (this device only)</source>
        <translation>%1（仅本设备）</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="99"/>
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/other_apps.py" line="117"/>
        <source>Saved.</source>
        <translation>已保存。</translation>
    </message>
</context>
<context>
    <name>PairDialog</name>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="26"/>
        <source>Pair with %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="27"/>
        <source>Asking %1… A code appears on that device.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="30"/>
        <source>6-digit code</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="38"/>
        <source>Pair</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="50"/>
        <source>Type the code shown on %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="61"/>
        <source>Checking the code…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="67"/>
        <source>Paired with %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/pairing_dialogs.py" line="73"/>
        <source>Pairing failed: %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>PlannerPage</name>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="69"/>
        <source>Auto plan</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="71"/>
        <source>Load</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="73"/>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="88"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="91"/>
        <source>Context</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="139"/>
        <source>No model yet: import a .gguf file on the Models page.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="145"/>
        <source>%1 layers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="147"/>
        <source>context %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="192"/>
        <source>%1 (this device)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="256"/>
        <source>predicted %1 tokens/s</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="260"/>
        <source>A device would run out of memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="269"/>
        <source>Loaded</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="274"/>
        <source>%1 would need %2 but has %3: over by %4</source>
        <translation>%1 需要 %2，但只有 %3：超出 %4</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="294"/>
        <source>Loading…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="307"/>
        <source>Loaded on %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="313"/>
        <source>Could not load: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/planner_page.py" line="327"/>
        <source>Loading cancelled</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>SettingsPage</name>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="37"/>
        <source>Let paired devices use this device&apos;s compute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="41"/>
        <source>half of this device&apos;s memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="44"/>
        <source>all cores</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="45"/>
        <source>Apply</source>
        <translation type="unfinished">应用</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="50"/>
        <source>Language</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="52"/>
        <source>Memory cap</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="53"/>
        <source>Thread cap</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="55"/>
        <source>The theme follows the system&apos;s light or dark setting.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="77"/>
        <source>Saved.</source>
        <translation type="unfinished">已保存。</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/settings_page.py" line="83"/>
        <source>The language changes when Hearth next starts.</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>Tray</name>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="45"/>
        <source>Donate compute</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="50"/>
        <source>Open Hearth</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="51"/>
        <source>Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="74"/>
        <source>Not donating</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="75"/>
        <source>Donating: ready for paired devices</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/tray.py" line="76"/>
        <source>Donating: a paired device is using this one</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>widget</name>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="27"/>
        <source>fits this device</source>
        <translation>本设备可运行</translation>
    </message>
    <message numerus="yes">
        <location filename="../app/hearth/ui/hub_list.py" line="29"/>
        <source>fits with your paired devices (%n devices)</source>
        <translation>
            <numerusform>需与已配对设备合力运行（%n 台设备）</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="31"/>
        <source>too large</source>
        <translation>太大，无法运行</translation>
    </message>
    <message>
        <location filename="../app/hearth/ui/hub_list.py" line="32"/>
        <source>about %1 tokens/s</source>
        <translation>约 %1 词元/秒</translation>
    </message>
</context>
</TS>
